import { Injectable } from '@nestjs/common';
import type { ErrorCode } from '#libs/common';
import { PrismaService, type Tx } from '#libs/database';

/** A failure to store: the record, why, and how often it has been tried in all. */
export interface NewRecordFailure {
  recordId: string;
  recordSeq: bigint;
  code: ErrorCode;
  reason: string;
  finishReason?: string;
  attempts: number;
}

export interface RecordFailureView {
  recordId: string;
  recordSeq: bigint;
  externalId: string;
  subject: string;
  code: string;
  reason: string;
  finishReason: string | null;
  attempts: number;
  createdAt: Date;
}

/** Owns backfill_record_failures. Reads are by backfill id (the API checks the backfill's tenant first). */
@Injectable()
export class RecordFailureRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Stores a page's failures inside the page's transaction. */
  async insertMany(tx: Tx, backfillId: string, workspaceId: string, failures: NewRecordFailure[]): Promise<void> {
    if (failures.length === 0) return;
    await tx.backfillRecordFailure.createMany({
      data: failures.map((f) => ({ backfillId, workspaceId, ...f, finishReason: f.finishReason ?? null })),
      skipDuplicates: true,
    });
  }

  /** Attempts so far of each record that failed in `backfillId` (a retry adds one). */
  async attemptsOf(backfillId: string, recordIds: string[]): Promise<Map<string, number>> {
    if (recordIds.length === 0) return new Map();
    const rows = await this.prisma.backfillRecordFailure.findMany({
      where: { backfillId, recordId: { in: recordIds } },
      select: { recordId: true, attempts: true },
    });
    return new Map(rows.map((r) => [r.recordId, r.attempts]));
  }

  /** Moves records out of a backfill's failures (a retry took them); returns how many left. */
  async remove(tx: Tx, backfillId: string, recordIds: string[]): Promise<number> {
    if (recordIds.length === 0) return 0;
    const { count } = await tx.backfillRecordFailure.deleteMany({ where: { backfillId, recordId: { in: recordIds } } });
    return count;
  }

  /**
   * Takes deleted records out of every backfill's failures (inside the deleting transaction), and
   * out of those backfills' `records_failed`, so a view never counts a record that is gone.
   */
  async forgetRecords(tx: Tx, workspaceId: string, recordIds: string[]): Promise<number> {
    if (recordIds.length === 0) return 0;
    const rows = await tx.$queryRaw<{ n: number }[]>`
      WITH gone AS (
        DELETE FROM backfill_record_failures WHERE workspace_id = ${workspaceId}::uuid AND record_id = ANY(${recordIds}::uuid[])
        RETURNING backfill_id)
      UPDATE backfills b SET records_failed = GREATEST(b.records_failed - c.n, 0)
      FROM (SELECT backfill_id, count(*)::int AS n FROM gone GROUP BY backfill_id) c
      WHERE b.id = c.backfill_id
      RETURNING c.n`;
    return rows.reduce((sum, r) => sum + r.n, 0);
  }

  async count(backfillId: string): Promise<number> {
    return this.prisma.backfillRecordFailure.count({ where: { backfillId } });
  }

  /** A keyset page in record order, after `afterSeq`. */
  async page(backfillId: string, afterSeq: bigint | undefined, limit: number): Promise<RecordFailureView[]> {
    const rows = await this.prisma.backfillRecordFailure.findMany({
      where: { backfillId, ...(afterSeq === undefined ? {} : { recordSeq: { gt: afterSeq } }) },
      orderBy: { recordSeq: 'asc' },
      take: limit,
      include: { record: { select: { externalId: true, subject: true } } },
    });
    return rows.map((r) => ({
      recordId: r.recordId,
      recordSeq: r.recordSeq,
      externalId: r.record.externalId,
      subject: r.record.subject,
      code: r.code,
      reason: r.reason,
      finishReason: r.finishReason,
      attempts: r.attempts,
      createdAt: r.createdAt,
    }));
  }

  /** How many records failed with each code, most common first. */
  async summary(backfillId: string): Promise<{ code: string; count: number }[]> {
    const rows = await this.prisma.backfillRecordFailure.groupBy({
      by: ['code'],
      where: { backfillId },
      _count: { code: true },
      orderBy: { _count: { code: 'desc' } },
    });
    return rows.map((r) => ({ code: r.code, count: r._count.code }));
  }
}

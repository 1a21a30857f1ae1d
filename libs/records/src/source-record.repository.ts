import { Injectable } from '@nestjs/common';
import { PrismaService } from '#libs/database';
import type { IncomingRecord, RecordForExtraction, RecordSourceName } from './source-record.js';

/** Owns source_records; scoped by workspace id first. */
@Injectable()
export class SourceRecordRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts what is new; a record already stored under the same external id counts as a duplicate. */
  async insertMany(workspaceId: string, source: RecordSourceName, records: IncomingRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const { count } = await this.prisma.sourceRecord.createMany({
      data: records.map((r) => ({
        workspaceId,
        source,
        externalId: r.externalId,
        fromAddr: r.from,
        toAddr: r.to,
        subject: r.subject,
        body: r.body,
        sentAt: r.sentAt,
      })),
      skipDuplicates: true,
    });
    return count;
  }

  /** Records after `afterSeq` that backfill `backfillId` could not extract, in insertion order. */
  pageFailedIn(workspaceId: string, backfillId: string, afterSeq: bigint, limit: number): Promise<RecordForExtraction[]> {
    return this.prisma.sourceRecord.findMany({
      where: { workspaceId, seq: { gt: afterSeq }, failures: { some: { backfillId } } },
      orderBy: { seq: 'asc' },
      take: limit,
      select: { id: true, seq: true, externalId: true, fromAddr: true, toAddr: true, subject: true, body: true, sentAt: true },
    });
  }

  /** Records after `afterSeq` in insertion order: the backfill's pages. */
  page(workspaceId: string, source: RecordSourceName, afterSeq: bigint, limit: number): Promise<RecordForExtraction[]> {
    return this.prisma.sourceRecord.findMany({
      where: { workspaceId, source, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
      select: { id: true, seq: true, externalId: true, fromAddr: true, toAddr: true, subject: true, body: true, sentAt: true },
    });
  }
}

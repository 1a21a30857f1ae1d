import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '#libs/database';
import type { RecordSourceName } from './source-record.js';

/** A record that was deleted, by identity only: never its content. */
export interface Tombstone {
  source: string;
  externalId: string;
}

/**
 * Owns record_tombstones: the identities of deleted records, so neither a re-upload nor a later
 * backfill brings one back until the client lifts its tombstone. Scoped by workspace id first.
 */
@Injectable()
export class RecordTombstoneRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Records deleted records' identities inside the deleting transaction; one already there stays as it was. */
  async add(tx: Tx, workspaceId: string, tombstones: Tombstone[]): Promise<void> {
    if (tombstones.length === 0) return;
    await tx.recordTombstone.createMany({ data: tombstones.map((t) => ({ workspaceId, ...t })), skipDuplicates: true });
  }

  /**
   * Lifts the tombstones of `externalId` (in `source`, or in every source when null), so the id may
   * be uploaded again; the number lifted (0 when there was none).
   */
  async lift(workspaceId: string, source: RecordSourceName | null, externalId: string): Promise<number> {
    const { count } = await this.prisma.recordTombstone.deleteMany({ where: { workspaceId, externalId, ...(source ? { source } : {}) } });
    return count;
  }
}

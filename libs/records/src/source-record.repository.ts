import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, type Tx } from '#libs/database';
import { WorkspaceGoneError } from './records.errors.js';
import type { IncomingRecord, RecordForExtraction, RecordSourceName, StoredRecord } from './source-record.js';

/** What a backfill would send of a workspace's records (see SourceRecordRepository.textStats). */
export interface RecordTextStats {
  records: number;
  characters: number;
  /** Provider calls at the least: one per chunk of each record. */
  chunks: number;
}

/** Owns source_records; scoped by workspace id first. */
@Injectable()
export class SourceRecordRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Stores one upload's records, all or nothing, in one transaction: what is new is inserted in the
   * given order (their `seq` follows it), 500 rows per statement over unnest'ed arrays (building
   * Prisma's createMany for a thousand rows of text held the event loop for 300 ms); a record already
   * stored under the same external id, or repeated in `records`, counts as a duplicate, and one whose
   * external id was deleted (a tombstone) is skipped and counted as `tombstoned`.
   * Uploads to one workspace take turns (a transaction-level advisory lock): two uploads inserting
   * the same external ids in different orders deadlocked each other. The workspace row is
   * share-locked and must not be marked deleted, so a record deletion (which holds it exclusively)
   * either committed its tombstone before this reads them or starts after these rows exist, and a
   * workspace deleted while its upload was read stores nothing.
   * @throws WorkspaceGoneError when the workspace is unknown or being deleted
   */
  async insertMany(workspaceId: string, source: RecordSourceName, records: IncomingRecord[]): Promise<{ inserted: number; tombstoned: number }> {
    if (records.length === 0) return { inserted: 0, tombstoned: 0 };
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`ingest:${workspaceId}`}, 0))`;
        const [workspace] = await tx.$queryRaw<{ deleted_at: Date | null }[]>`
          SELECT deleted_at FROM workspaces WHERE id = ${workspaceId}::uuid FOR KEY SHARE`;
        if (!workspace || workspace.deleted_at !== null) throw new WorkspaceGoneError(workspaceId);
        const deleted = await tx.$queryRaw<{ external_id: string }[]>`
          SELECT external_id FROM record_tombstones
          WHERE workspace_id = ${workspaceId}::uuid AND source = ${source} AND external_id = ANY(${records.map((r) => r.externalId)}::text[])`;
        const tombstoned = new Set(deleted.map((t) => t.external_id));
        const live = tombstoned.size === 0 ? records : records.filter((r) => !tombstoned.has(r.externalId));
        let inserted = 0;
        for (let i = 0; i < live.length; i += INSERT_BATCH) {
          inserted += await insertBatch(tx, workspaceId, source, live.slice(i, i + INSERT_BATCH));
        }
        return { inserted, tombstoned: records.length - live.length };
      },
      // one upload is up to 20,000 rows, and it may wait its turn behind another upload to the workspace
      { maxWait: 10_000, timeout: UPLOAD_TRANSACTION_TIMEOUT_MS },
    );
  }

  /**
   * Stores what a connector fetched (insertMany: what is new is inserted, a deleted record's
   * tombstone skips it) and reads back the stored rows of those external ids, new and already
   * stored alike (a page fetched again after a crash must still be extracted), keyed by external id.
   * @throws WorkspaceGoneError when the workspace is unknown or being deleted
   */
  async storeFetched(workspaceId: string, source: RecordSourceName, records: IncomingRecord[]): Promise<Map<string, RecordForExtraction>> {
    if (records.length === 0) return new Map();
    await this.insertMany(workspaceId, source, records);
    const rows = await this.prisma.sourceRecord.findMany({
      where: { workspaceId, source, externalId: { in: records.map((r) => r.externalId) } },
      select: { id: true, seq: true, externalId: true, fromAddr: true, toAddr: true, ccAddr: true, subject: true, body: true, sentAt: true },
    });
    return new Map(rows.map((row) => [row.externalId, row]));
  }

  /** The records stored under `externalId` (in `source`, or in every source when null), locked for the caller's deleting transaction. */
  async lockByExternalId(
    tx: Tx,
    workspaceId: string,
    source: RecordSourceName | null,
    externalId: string,
  ): Promise<{ id: string; source: string; externalId: string }[]> {
    const rows = await tx.$queryRaw<{ id: string; source: string; external_id: string }[]>`
      SELECT id, source, external_id FROM source_records
      WHERE workspace_id = ${workspaceId}::uuid AND external_id = ${externalId} ${source === null ? Prisma.empty : Prisma.sql`AND source = ${source}`}
      ORDER BY seq
      FOR UPDATE`;
    return rows.map((r) => ({ id: r.id, source: r.source, externalId: r.external_id }));
  }

  /** Deletes records by id inside the caller's transaction (their mentions and failures must be taken out first). */
  async deleteByIds(tx: Tx, workspaceId: string, ids: string[]): Promise<number> {
    const { count } = await tx.sourceRecord.deleteMany({ where: { workspaceId, id: { in: ids } } });
    return count;
  }

  /**
   * A workspace's records after `afterSeq` in `seq` (insertion) order, of every source or of `source`,
   * at most `limit` of them; `more` says whether records follow (one look-ahead row).
   */
  async list(workspaceId: string, afterSeq: bigint, limit: number, source?: RecordSourceName): Promise<{ records: StoredRecord[]; more: boolean }> {
    const rows = await this.prisma.sourceRecord.findMany({
      where: { workspaceId, seq: { gt: afterSeq }, ...(source ? { source } : {}) },
      orderBy: { seq: 'asc' },
      take: limit + 1,
      select: { seq: true, source: true, externalId: true, fromAddr: true, toAddr: true, ccAddr: true, subject: true, body: true, sentAt: true },
    });
    return { records: rows.slice(0, limit).map((r) => ({ ...r, source: r.source as RecordSourceName })), more: rows.length > limit };
  }

  /** Records after `afterSeq` that backfill `backfillId` could not extract, in insertion order, bounded as {@link page} is. */
  pageFailedIn(workspaceId: string, backfillId: string, afterSeq: bigint, limit: number, maxBytes: number): Promise<BoundedPage> {
    return this.boundedPage(
      Prisma.sql`workspace_id = ${workspaceId}::uuid AND seq > ${afterSeq}
        AND EXISTS (SELECT 1 FROM backfill_record_failures f WHERE f.backfill_id = ${backfillId}::uuid AND f.record_id = source_records.id)`,
      limit,
      maxBytes,
    );
  }

  /**
   * The backfill's pages: records after `afterSeq` in insertion order, at most `limit` of them and at
   * most `maxBytes` of text (UTF-8 bytes of from, to, cc, subject and body, what extraction sends), but
   * always at least one. The byte bound is applied in Postgres (a running sum over the keyset order,
   * on the narrow columns only), so a page of long records never reaches the process whole.
   * `more` says whether records follow the page (one look-ahead row, never its text).
   * `source` null reads every source in one `seq` order (index (workspace_id, seq)).
   */
  page(workspaceId: string, source: RecordSourceName | null, afterSeq: bigint, limit: number, maxBytes: number): Promise<BoundedPage> {
    const filter =
      source === null
        ? Prisma.sql`workspace_id = ${workspaceId}::uuid AND seq > ${afterSeq}`
        : Prisma.sql`workspace_id = ${workspaceId}::uuid AND source = ${source} AND seq > ${afterSeq}`;
    return this.boundedPage(filter, limit, maxBytes);
  }

  /**
   * What a backfill of the records after `afterSeq` (of `source`, or every source when null) would
   * send, computed in Postgres without reading the text out: records, characters of the text the
   * extractor builds per record (libs/graphrag `recordText`: `From: `, `To: `, `Cc: ` when present,
   * `Subject: `, an empty line and the body, joined by newlines; characters as Postgres counts them,
   * code points) and chunks (`ceil(characters / chunkChars)` per record, at least one: the extractor's
   * chunker cuts at most `chunkChars` per call, at a boundary, so this is the least it sends).
   */
  async textStats(workspaceId: string, source: RecordSourceName | null, afterSeq: bigint, chunkChars: number): Promise<RecordTextStats> {
    const filter = source === null ? Prisma.empty : Prisma.sql`AND source = ${source}`;
    const rows = await this.prisma.$queryRaw<{ records: bigint; characters: bigint | null; chunks: bigint | null }[]>`
      WITH lengths AS (
        SELECT char_length(from_addr) + 6 + char_length(to_addr) + 4 + char_length(subject) + 9 + char_length(body) + 4
               + CASE WHEN cc_addr <> '' THEN char_length(cc_addr) + 5 ELSE 0 END AS characters
        FROM source_records WHERE workspace_id = ${workspaceId}::uuid AND seq > ${afterSeq} ${filter}
      )
      SELECT count(*)::bigint AS records, sum(characters)::bigint AS characters,
             sum(greatest(1, ceil(characters::numeric / ${chunkChars})))::bigint AS chunks
      FROM lengths`;
    const row = rows[0];
    return { records: Number(row?.records ?? 0n), characters: Number(row?.characters ?? 0n), chunks: Number(row?.chunks ?? 0n) };
  }

  /** The rows matching `filter` in `seq` order, cut at `limit` records or `maxBytes` of text (at least one). */
  private async boundedPage(filter: Prisma.Sql, limit: number, maxBytes: number): Promise<BoundedPage> {
    const rows = await this.prisma.$queryRaw<PageRow[]>(Prisma.sql`
      WITH window_rows AS (
        SELECT id, seq,
               row_number() OVER (ORDER BY seq) AS position,
               sum(octet_length(from_addr) + octet_length(to_addr) + octet_length(cc_addr) + octet_length(subject) + octet_length(body)) OVER (ORDER BY seq) AS running_bytes
        FROM source_records
        WHERE ${filter}
        ORDER BY seq
        LIMIT ${limit + 1}
      ),
      chosen AS (
        SELECT id, seq FROM window_rows WHERE position <= ${limit} AND (position = 1 OR running_bytes <= ${maxBytes})
      )
      SELECT r.id, r.seq, r.external_id, r.from_addr, r.to_addr, r.cc_addr, r.subject, r.body, r.sent_at,
             (SELECT count(*) FROM window_rows) > (SELECT count(*) FROM chosen) AS more
      FROM chosen JOIN source_records r ON r.id = chosen.id
      ORDER BY r.seq`);
    return {
      records: rows.map((r) => ({
        id: r.id,
        seq: r.seq,
        externalId: r.external_id,
        fromAddr: r.from_addr,
        toAddr: r.to_addr,
        ccAddr: r.cc_addr,
        subject: r.subject,
        body: r.body,
        sentAt: r.sent_at,
      })),
      more: rows[0]?.more ?? false,
    };
  }
}

/** Rows per INSERT statement of an upload. */
const INSERT_BATCH = 500;
/** How long (ms) one upload's transaction may take, its wait for the workspace's turn included. */
const UPLOAD_TRANSACTION_TIMEOUT_MS = 120_000;

/** Inserts `records` in their order inside `tx`; an external id already stored is skipped. Returns the rows inserted. */
function insertBatch(tx: Tx, workspaceId: string, source: RecordSourceName, records: IncomingRecord[]): Promise<number> {
  return tx.$executeRaw(Prisma.sql`
    INSERT INTO source_records (id, workspace_id, source, external_id, from_addr, to_addr, cc_addr, subject, body, sent_at)
    SELECT gen_random_uuid(), ${workspaceId}::uuid, ${source}, u.external_id, u.from_addr, u.to_addr, u.cc_addr, u.subject, u.body, u.sent_at
    FROM unnest(${records.map((r) => r.externalId)}::text[], ${records.map((r) => r.from)}::text[], ${records.map((r) => r.to)}::text[],
                ${records.map((r) => r.cc)}::text[], ${records.map((r) => r.subject)}::text[], ${records.map((r) => r.body)}::text[],
                ${records.map((r) => r.sentAt.toISOString())}::timestamptz[])
         WITH ORDINALITY AS u(external_id, from_addr, to_addr, cc_addr, subject, body, sent_at, position)
    ORDER BY u.position
    ON CONFLICT (workspace_id, source, external_id) DO NOTHING`);
}

/** One page of records, and whether more follow it. */
export interface BoundedPage {
  records: RecordForExtraction[];
  more: boolean;
}

interface PageRow {
  id: string;
  seq: bigint;
  external_id: string;
  from_addr: string;
  to_addr: string;
  cc_addr: string;
  subject: string;
  body: string;
  sent_at: Date;
  more: boolean;
}

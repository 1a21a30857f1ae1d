import { Injectable } from '@nestjs/common';
import type { RecordSourceName, StoredRecord } from './source-record.js';
import { SourceRecordRepository } from './source-record.repository.js';

/** Records per page of `GET /v1/workspaces/:id/records` unless the client asks otherwise, and at most. */
export const RECORDS_PAGE_DEFAULT_LIMIT = 50;
export const RECORDS_PAGE_MAX_LIMIT = 200;

/** One page of a workspace's records, and the `seq` to continue after (null on the last page). */
export interface StoredRecordPage {
  records: StoredRecord[];
  nextSeq: bigint | null;
}

/**
 * Reads a workspace's records back as they were stored, keyset-paginated by `seq` (insertion order),
 * so a page never shifts when records are added meanwhile. The caller has checked the workspace is
 * the tenant's; this only ever reads rows of `workspaceId`.
 */
@Injectable()
export class RecordReader {
  constructor(private readonly records: SourceRecordRepository) {}

  /** At most `limit` records (1 to {@link RECORDS_PAGE_MAX_LIMIT}) after `afterSeq` (0n: from the start), of one source or all. */
  async page(workspaceId: string, options: { afterSeq?: bigint; limit?: number; source?: RecordSourceName } = {}): Promise<StoredRecordPage> {
    const limit = Math.min(Math.max(options.limit ?? RECORDS_PAGE_DEFAULT_LIMIT, 1), RECORDS_PAGE_MAX_LIMIT);
    const { records, more } = await this.records.list(workspaceId, options.afterSeq ?? 0n, limit, options.source);
    return { records, nextSeq: more ? (records.at(-1)?.seq ?? null) : null };
  }
}

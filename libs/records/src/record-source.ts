import { Injectable } from '@nestjs/common';
import { ALL_SOURCES, type RecordForExtraction, type RecordScope } from './source-record.js';
import { SourceRecordRepository } from './source-record.repository.js';

export interface RecordPage {
  records: RecordForExtraction[];
  /** Where the next page starts; null when this was the last one. */
  nextCursor: string | null;
}

/** A connector to where a workspace's records live. A backfill only ever calls it after its pre-flight passed. */
export interface RecordSource {
  readonly name: RecordScope;
  /**
   * The page after `cursor`: at most `limit` records and, where the source can bound it, at most
   * `maxBytes` bytes of text (UTF-8), but always at least one record when any is left.
   */
  fetchPage(cursor: string | null, limit: number, maxBytes: number): Promise<RecordPage>;
  /**
   * For a source on another server (a mailbox): connects and checks what reading needs (a login,
   * the folders), before the first page; a typed AppError when it cannot.
   */
  open?(): Promise<void>;
  /** Lets go of what `open` and the pages held (a connection); never throws. */
  close?(): Promise<void>;
}

/**
 * Records ingested through the API or imported from mbox, stored in source_records and paged by
 * `seq`: one source's, or every source's (`all`, one keyset order over all of them).
 */
export class StoredRecordSource implements RecordSource {
  constructor(
    readonly name: RecordScope,
    private readonly workspaceId: string,
    private readonly records: SourceRecordRepository,
  ) {}

  async fetchPage(cursor: string | null, limit: number, maxBytes: number): Promise<RecordPage> {
    const { records, more } = await this.records.page(
      this.workspaceId,
      this.name === ALL_SOURCES ? null : this.name,
      cursor ? BigInt(cursor) : 0n,
      limit,
      maxBytes,
    );
    const last = records.at(-1);
    return { records, nextCursor: more && last ? last.seq.toString() : null };
  }
}

/** The records another backfill could not extract, in the same `seq` order: what a retry reads. */
class FailedRecordSource implements RecordSource {
  constructor(
    readonly name: RecordScope,
    private readonly workspaceId: string,
    private readonly failedIn: string,
    private readonly records: SourceRecordRepository,
  ) {}

  async fetchPage(cursor: string | null, limit: number, maxBytes: number): Promise<RecordPage> {
    const { records, more } = await this.records.pageFailedIn(this.workspaceId, this.failedIn, cursor ? BigInt(cursor) : 0n, limit, maxBytes);
    const last = records.at(-1);
    return { records, nextCursor: more && last ? last.seq.toString() : null };
  }
}

@Injectable()
export class RecordSourceFactory {
  constructor(private readonly records: SourceRecordRepository) {}

  /** The workspace's records of `source`, or of every source (`all`). */
  forWorkspace(workspaceId: string, source: RecordScope): RecordSource {
    return new StoredRecordSource(source, workspaceId, this.records);
  }

  /** The records of `source` that backfill `backfillId` stored as failed. */
  failedIn(workspaceId: string, source: RecordScope, backfillId: string): RecordSource {
    return new FailedRecordSource(source, workspaceId, backfillId, this.records);
  }
}

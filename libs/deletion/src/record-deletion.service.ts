import { Injectable, Logger } from '@nestjs/common';
import { BackfillRepository, RecordFailureRepository } from '#libs/backfill';
import { TransactionService } from '#libs/database';
import { GraphRepository } from '#libs/graphrag';
import { type RecordSourceName, RecordTombstoneRepository, SourceRecordRepository } from '#libs/records';
import { TenantResolver, type TenantScope, WorkspaceService } from '#libs/tenancy';
import { DeletionBlockedByActiveJobError, RecordNotFoundError, TombstoneNotFoundError } from './deletion.errors.js';

/** What one record deletion removed. */
export interface RecordDeletionCounts {
  records: number;
  mentions: number;
  /** Entities no remaining record mentions, removed with the record. */
  entities: number;
  /** Relationships of those entities, removed with them. */
  relationships: number;
  /** Failures stored for the records by backfills (and taken out of their counters). */
  recordFailures: number;
}

/**
 * Deletes one record by external id, with everything derived from it, and leaves a tombstone so it
 * never comes back (neither through a re-upload nor, since the row is gone, through a backfill).
 *
 * Rule chosen for a running backfill: refused (409 DELETION_BLOCKED_BY_ACTIVE_JOB) while any
 * backfill of the workspace is queued or running, because a page already extracted from the record
 * would otherwise write its entities back after the delete. The check is race-free: the deletion
 * holds the workspace row exclusively (FOR UPDATE), which a backfill's creation (foreign-key check)
 * and every page commit (its fence) must share-lock, and record inserts wait for it too, so they read
 * the new tombstone.
 */
@Injectable()
export class RecordDeletionService {
  private readonly logger = new Logger(RecordDeletionService.name);

  constructor(
    private readonly transactions: TransactionService,
    private readonly workspaces: WorkspaceService,
    private readonly tenants: TenantResolver,
    private readonly backfills: BackfillRepository,
    private readonly failures: RecordFailureRepository,
    private readonly records: SourceRecordRepository,
    private readonly tombstones: RecordTombstoneRepository,
    private readonly graph: GraphRepository,
  ) {}

  /**
   * Deletes the record stored under `externalId` in `source` (null: in every source) of a workspace
   * as a caller in `scope` addresses it (another tenant's reads as not found), in one transaction: its mentions, entities and relationships no other record supports (mention counts
   * kept, graph_version bumped), its backfill failures, the row itself; and tombstones it.
   * @throws WorkspaceNotFoundError, RecordNotFoundError (nothing stored under that id),
   *   DeletionBlockedByActiveJobError (a backfill of the workspace is active)
   */
  async delete(scope: TenantScope, workspaceId: string, source: RecordSourceName | null, externalId: string): Promise<RecordDeletionCounts> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    const counts = await this.transactions.run(async (tx) => {
      // still the owner's it was resolved as (a transfer in between reads as not found)
      await this.workspaces.lockLive(tx, tenantId, workspaceId);
      const active = await this.backfills.activeIds(tx, workspaceId);
      if (active.length > 0) throw new DeletionBlockedByActiveJobError(active, 'record');
      const found = await this.records.lockByExternalId(tx, workspaceId, source, externalId);
      if (found.length === 0) throw new RecordNotFoundError(externalId);
      const ids = found.map((r) => r.id);
      const graph = await this.graph.forgetRecords(tx, workspaceId, ids);
      const recordFailures = await this.failures.forgetRecords(tx, workspaceId, ids);
      const records = await this.records.deleteByIds(tx, workspaceId, ids);
      await this.tombstones.add(
        tx,
        workspaceId,
        found.map((r) => ({ source: r.source, externalId: r.externalId })),
      );
      return { records, ...graph, recordFailures };
    });
    this.logger.log({ workspaceId, ...counts }, 'Record deleted');
    return counts;
  }

  /**
   * Lifts the tombstone of `externalId` (in `source`, or every source when null) in a workspace as a
   * caller in `scope` addresses it: the id may be uploaded again. Nothing deleted comes back by itself.
   * @throws WorkspaceNotFoundError (missing, or another tenant's), TombstoneNotFoundError
   */
  async lift(scope: TenantScope, workspaceId: string, source: RecordSourceName | null, externalId: string): Promise<void> {
    await this.tenants.resolveIn(scope, workspaceId);
    if ((await this.tombstones.lift(workspaceId, source, externalId)) === 0) throw new TombstoneNotFoundError(externalId);
  }
}

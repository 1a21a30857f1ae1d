import { Injectable, Logger } from '@nestjs/common';
import { BackfillRepository, BackfillService } from '#libs/backfill';
import { TransactionService, type Workspace, type WorkspaceDeletion, WorkspaceDeletionStatus } from '#libs/database';
import { JobName, JobQueue } from '#libs/queue';
import { AuditLog, type RequestActor, findInScope, type TenantScope, WorkspaceNotFoundError, WorkspaceService } from '#libs/tenancy';
import { DeletionBlockedByActiveJobError, WorkspaceDeletionNotFoundError } from './deletion.errors.js';
import { WorkspaceDeletionRepository } from './workspace-deletion.repository.js';

/**
 * The API side of workspace deletion. The workspace stops being usable at once (it is marked
 * deleted and every process's tenant cache forgets it: reads answer 404, writes are refused, and
 * no backfill page commits to it any more); its data is removed afterwards by the
 * `workspace-deletion` job, in batches, watched through the deletion's row.
 */
@Injectable()
export class WorkspaceDeletionService {
  private readonly logger = new Logger(WorkspaceDeletionService.name);

  constructor(
    private readonly deletions: WorkspaceDeletionRepository,
    private readonly workspaces: WorkspaceService,
    private readonly backfills: BackfillRepository,
    private readonly backfillService: BackfillService,
    private readonly transactions: TransactionService,
    private readonly queue: JobQueue,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Asks for a workspace's deletion, as a caller in `scope` addresses it (another tenant's workspace
   * reads as not found), and queues its job. Idempotent: a workspace already
   * being deleted answers its running deletion, and one whose deletion failed gets a new run that
   * resumes it. A queue that cannot take the job now does not fail the request: the reconciler
   * queues it. With an `actor` (every API call), `workspace.delete` is appended to the owner's audit
   * log in the transaction that marks it deleted (a repeated request records nothing more).
   * @throws WorkspaceNotFoundError, DeletionBlockedByActiveJobError (409: a backfill is active and
   *   `cancelActive` is not set; with it, the backfills are cancelled first, as a transfer does)
   */
  async request(scope: TenantScope, workspaceId: string, options: { cancelActive?: boolean; actor?: RequestActor } = {}): Promise<WorkspaceDeletion> {
    const workspace = await this.workspaces.findIncludingDeleted(scope, workspaceId);
    if (!workspace) throw new WorkspaceNotFoundError(workspaceId);
    if (workspace.deletedAt) return this.resume(workspace);
    const { tenantId } = workspace;

    // refused before anything is cancelled; the check is repeated under the workspace's lock below
    const active = await this.backfills.listActiveAnyTenant(workspaceId);
    if (active.length > 0 && !options.cancelActive)
      throw new DeletionBlockedByActiveJobError(
        active.map((b) => b.id),
        'workspace',
      );
    if (active.length > 0) {
      const cancelled = await this.backfillService.cancelActive(workspaceId);
      this.logger.log({ workspaceId, backfills: cancelled }, 'Cancelled active backfills before a workspace deletion');
    }
    let deletion: WorkspaceDeletion;
    try {
      deletion = await this.transactions.run(async (tx) => {
        // still the owner's it was read as (a transfer in between reads as not found)
        await this.workspaces.lockLive(tx, tenantId, workspaceId);
        const stillActive = await this.backfills.activeIds(tx, workspaceId);
        if (stillActive.length > 0 && !options.cancelActive) throw new DeletionBlockedByActiveJobError(stillActive, 'workspace');
        // a running one stops at its next page; the fence refuses any page of a deleted workspace meanwhile
        await this.backfills.requestCancelAll(tx, workspaceId);
        await this.workspaces.markDeleted(tx, tenantId, workspaceId);
        const created = await this.deletions.create(tx, tenantId, workspaceId);
        if (options.actor) {
          const details = { workspaceId, deletionId: created.id, cancelledBackfills: stillActive.length };
          await this.audit.record(tenantId, options.actor, { action: 'workspace.delete', details }, tx);
        }
        return created;
      });
    } catch (error) {
      // a concurrent DELETE marked it first: answer that deletion
      const now = error instanceof WorkspaceNotFoundError ? await this.workspaces.findIncludingDeleted(scope, workspaceId) : null;
      if (now?.deletedAt) return this.resume(now);
      throw error;
    }
    await this.workspaces.forget(workspaceId);
    await this.enqueue(deletion);
    this.logger.log({ workspaceId, deletionId: deletion.id }, 'Workspace deletion queued');
    return deletion;
  }

  /**
   * A deletion as a caller in `scope` addresses it; another tenant's reads as not found.
   * @throws WorkspaceDeletionNotFoundError
   */
  async get(scope: TenantScope, deletionId: string): Promise<WorkspaceDeletion> {
    const deletion = await findInScope(
      scope,
      () => this.deletions.ownerOf(deletionId),
      (tenantId) => this.deletions.findById(tenantId, deletionId),
    );
    if (!deletion) throw new WorkspaceDeletionNotFoundError(deletionId);
    return deletion;
  }

  /** A workspace already marked deleted: its unfinished deletion, or a new run of a failed one. */
  private async resume(workspace: Workspace): Promise<WorkspaceDeletion> {
    const latest = await this.deletions.findLatest(workspace.tenantId, workspace.id);
    if (latest && (latest.status === WorkspaceDeletionStatus.queued || latest.status === WorkspaceDeletionStatus.running)) return latest;
    const deletion = await this.transactions.run((tx) => this.deletions.createUnlessActive(tx, workspace.tenantId, workspace.id));
    // another request resumed it first: answer that run
    if (!deletion) return (await this.deletions.findLatest(workspace.tenantId, workspace.id))!;
    await this.enqueue(deletion);
    this.logger.log({ workspaceId: workspace.id, deletionId: deletion.id }, 'Workspace deletion resumed');
    return deletion;
  }

  private async enqueue(deletion: WorkspaceDeletion): Promise<void> {
    try {
      await this.queue.enqueue(JobName.WorkspaceDeletion, { deletionId: deletion.id });
    } catch (error) {
      // the workspace is already gone for every reader; the reconciler queues a deletion it finds without an entry
      this.logger.warn({ deletionId: deletion.id, err: error }, 'Workspace deletion not queued now; the reconciler will queue it');
    }
  }
}

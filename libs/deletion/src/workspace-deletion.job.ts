import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { TransactionService, WorkspaceDeletionStatus } from '#libs/database';
import {
  HandlesJob,
  type JobContext,
  type JobFailure,
  type JobHandler,
  JobName,
  type JobOf,
  JobQueue,
  type JobRunResult,
  type UnfinishedJob,
} from '#libs/queue';
import { PLATFORM_SCOPE, findInScope, WorkspaceService } from '#libs/tenancy';
import { WorkspaceDeletionRepository } from './workspace-deletion.repository.js';
import { PURGE_STEPS } from './workspace-purge.js';

/** Times a deletion whose queue entry was lost or ran out of attempts is handed to the queue again before it ends `failed`. */
export const MAX_DELETION_REQUEUES = 5;

/** The deletion ended (or was settled) while this run was between batches: stop, commit nothing more. */
class DeletionEndedError extends Error {
  override name = 'DeletionEndedError';
}

/**
 * The workspace deletion job: empties a workspace marked deleted, batch by batch
 * (`WORKSPACE_DELETE_BATCH_SIZE` rows per transaction, each adding what it deleted to the job's
 * counts in the same transaction), then deletes the workspace row and ends `succeeded` in one last
 * transaction. Killed at any point it resumes where it stopped (the queue's stall check or
 * retries run it again); run twice it finds nothing more to delete and ends the same way.
 */
@Injectable()
@HandlesJob(JobName.WorkspaceDeletion)
export class WorkspaceDeletionJob implements JobHandler<JobName.WorkspaceDeletion> {
  private readonly logger = new Logger(WorkspaceDeletionJob.name);

  constructor(
    private readonly deletions: WorkspaceDeletionRepository,
    private readonly workspaces: WorkspaceService,
    private readonly transactions: TransactionService,
    private readonly queue: JobQueue,
    private readonly config: AppConfig,
  ) {}

  async run({ deletionId }: JobOf<JobName.WorkspaceDeletion>, context: JobContext): Promise<JobRunResult> {
    // the job runtime knows the deletion by its id alone: its owner, then every step as that tenant's
    const deletion = await findInScope(
      PLATFORM_SCOPE,
      () => this.deletions.ownerOf(deletionId),
      (tenantId) => this.deletions.claim(tenantId, deletionId),
    );
    if (!deletion) return { status: 'skipped' };
    const { workspaceId, tenantId } = deletion;
    const limit = this.config.jobs.deleteBatchSize;
    try {
      for (const step of PURGE_STEPS) {
        for (;;) {
          if (context.leaseLost.aborted) return { status: 'superseded' };
          if (context.shutdown.aborted) return { status: 'released' };
          const drained = await this.transactions.run(async (tx) => {
            const counts = await step.batch(tx, workspaceId, limit);
            if (!(await this.deletions.addDeleted(tx, tenantId, deletionId, counts))) throw new DeletionEndedError();
            return (counts[step.kind] ?? 0) < limit;
          });
          await context.progress({ step: step.kind });
          if (drained) break;
        }
      }
      await this.transactions.run(async (tx) => {
        const workspaces = await this.workspaces.deleteRow(tx, tenantId, workspaceId);
        if (!(await this.deletions.addDeleted(tx, tenantId, deletionId, { workspaces }))) throw new DeletionEndedError();
        await this.deletions.finish(tenantId, deletionId, WorkspaceDeletionStatus.succeeded, undefined, tx);
      });
    } catch (error) {
      if (error instanceof DeletionEndedError) return { status: 'superseded' };
      throw error;
    }
    this.logger.log({ deletionId, workspaceId }, 'Workspace deleted');
    return { status: 'succeeded' };
  }

  unfinished(): Promise<UnfinishedJob[]> {
    return this.deletions.unfinished();
  }

  /**
   * A deletion must finish: one whose queue entry failed, completed or vanished is handed to the
   * queue again (it resumes where it stopped), up to MAX_DELETION_REQUEUES times; after that it
   * ends `failed` with the reason, and a new DELETE of the workspace resumes it.
   */
  async settleLost(deletionId: string, failure: JobFailure): Promise<boolean> {
    const deletion = await findInScope(
      PLATFORM_SCOPE,
      () => this.deletions.ownerOf(deletionId),
      (tenantId) => this.deletions.findById(tenantId, deletionId),
    );
    if (!deletion || (deletion.status !== WorkspaceDeletionStatus.queued && deletion.status !== WorkspaceDeletionStatus.running)) return false;
    if (deletion.requeues < MAX_DELETION_REQUEUES) {
      if (!(await this.queue.removeUnlessRunning(JobName.WorkspaceDeletion, deletionId))) return false;
      if (!(await this.deletions.requeue(deletion.tenantId, deletionId))) return false;
      await this.queue.enqueue(JobName.WorkspaceDeletion, { deletionId });
      this.logger.warn({ deletionId, code: failure.code, requeues: deletion.requeues + 1 }, 'Workspace deletion handed to the queue again');
      return true;
    }
    return this.deletions.finish(deletion.tenantId, deletionId, WorkspaceDeletionStatus.failed, {
      code: failure.code,
      message: `${failure.message} The workspace stays deleted for every reader; send DELETE for it again to finish removing its data.`,
    });
  }
}

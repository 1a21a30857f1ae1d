import { Injectable } from '@nestjs/common';
import type { RequestKey } from '#libs/common';
import { RequestKeySealer } from '#libs/byok';
import { type Backfill, BackfillStatus } from '#libs/database';
import { MailboxSources } from '#libs/mailbox';
import { JobName, JobQueue } from '#libs/queue';
import type { RecordScope } from '#libs/records';
import { findInScope, TenantResolver, type TenantScope } from '#libs/tenancy';
import { ACTIVE_STATUSES, BackfillRepository, type StartPoint } from './backfill.repository.js';
import {
  BackfillAlreadyActiveError,
  BackfillNotCancellableError,
  BackfillNotFoundError,
  BackfillNothingToRetryError,
  WorkspaceTransferredError,
} from './backfill.errors.js';
import { type RecordFailureView, RecordFailureRepository } from './record-failure.repository.js';

/** How a backfill starts. */
export interface StartOptions {
  /** The caller's own key for this backfill only; it rides in the queue sealed to the job and its tenant. */
  requestKey?: RequestKey;
  /** Run over every record even when the last backfill failed or was cancelled part-way (default: resume from its checkpoint). */
  fromStart?: boolean;
}

/** The API side of backfills: start (one active per workspace; resuming a failed or cancelled one), read, list, cancel. */
@Injectable()
export class BackfillService {
  constructor(
    private readonly backfills: BackfillRepository,
    private readonly failures: RecordFailureRepository,
    private readonly queue: JobQueue,
    private readonly tenants: TenantResolver,
    private readonly sealer: RequestKeySealer,
    private readonly mailboxes: MailboxSources,
  ) {}

  /**
   * Queues a backfill of a workspace (as a caller in `scope` addresses it) from `source` (`all`:
   * every source, in one `seq` order), run as the workspace's owner. When the owner's last full
   * backfill of that same scope failed or was cancelled part-way, the new one continues from its
   * checkpoint (records it committed are not sent to the provider again) unless `fromStart`.
   * @throws WorkspaceNotFoundError (missing, or another tenant's), ImapSourceNotFoundError (`imap` without a mailbox), BackfillAlreadyActiveError
   */
  async start(scope: TenantScope, workspaceId: string, source: RecordScope, options: StartOptions = {}): Promise<Backfill> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    // a mailbox backfill needs a mailbox: said now, not by a job that fails
    if (source === 'imap') await this.mailboxes.get(tenantId, workspaceId);
    const last = options.fromStart ? null : await this.backfills.findLatestFull(tenantId, workspaceId, source);
    const resumable = last && (last.status === BackfillStatus.failed || last.status === BackfillStatus.cancelled) && last.cursor !== null;
    return this.enqueue(tenantId, workspaceId, source, options.requestKey, resumable ? { resumedFromId: last.id, cursor: last.cursor } : {});
  }

  private async enqueue(
    tenantId: string,
    workspaceId: string,
    source: string,
    requestKey: RequestKey | undefined,
    start: StartPoint,
  ): Promise<Backfill> {
    const backfill = await this.backfills.createQueued(tenantId, workspaceId, source, start);
    if (!backfill) {
      // another tenant's job (left from before a transfer) is not named to this one
      const active = await this.backfills.findActive(tenantId, workspaceId);
      throw new BackfillAlreadyActiveError(active ? active.id : 'of a previous owner');
    }
    try {
      await this.queue.enqueue(JobName.Backfill, {
        backfillId: backfill.id,
        tenantId,
        ...(requestKey ? { sealedKey: this.sealer.seal(requestKey, { jobId: backfill.id, tenantId }) } : {}),
      });
    } catch (error) {
      // nothing would ever run it: do not leave a queued row that blocks the workspace
      await this.backfills.delete(tenantId, backfill.id);
      throw error;
    }
    return backfill;
  }

  /**
   * A backfill as a caller in `scope` addresses it; another tenant's reads as not found.
   * @throws BackfillNotFoundError
   */
  async get(scope: TenantScope, backfillId: string): Promise<Backfill> {
    const backfill = await findInScope(
      scope,
      () => this.backfills.ownerOf(backfillId),
      (tenantId) => this.backfills.findById(tenantId, backfillId),
    );
    if (!backfill) throw new BackfillNotFoundError(backfillId);
    return backfill;
  }

  /**
   * Queues a backfill of only the records `backfillId` could not extract; each one that now
   * succeeds leaves that backfill's failures, each one that fails again is stored with the retry.
   * @throws BackfillNotFoundError, BackfillAlreadyActiveError (this one or another is still active),
   *   BackfillNothingToRetryError, WorkspaceTransferredError (409: the workspace belongs to another tenant now)
   */
  async retryFailed(scope: TenantScope, backfillId: string, requestKey?: RequestKey): Promise<Backfill> {
    const original = await this.get(scope, backfillId);
    // the workspace may have moved to another tenant since: the old owner's retry would hold the new
    // owner's one active slot until a worker refused it
    if ((await this.tenants.resolve(original.workspaceId)).tenantId !== original.tenantId)
      throw new WorkspaceTransferredError(original.workspaceId, true);
    if (ACTIVE_STATUSES.includes(original.status)) throw new BackfillAlreadyActiveError(original.id);
    if ((await this.failures.count(original.id)) === 0) throw new BackfillNothingToRetryError(original.id);
    return this.enqueue(original.tenantId, original.workspaceId, original.source, requestKey, { retryOfId: original.id });
  }

  /**
   * A keyset page of a backfill's failed records in record order, and how many failed with each code.
   * @throws BackfillNotFoundError
   */
  async failuresOf(
    scope: TenantScope,
    backfillId: string,
    page: { afterSeq?: bigint; limit: number },
  ): Promise<{ items: RecordFailureView[]; summary: { code: string; count: number }[]; nextSeq: bigint | null }> {
    // failures are reached only through their backfill, read in scope
    const backfill = await this.get(scope, backfillId);
    const rows = await this.failures.page(backfill.id, page.afterSeq, page.limit + 1);
    const items = rows.slice(0, page.limit);
    return { items, summary: await this.failures.summary(backfill.id), nextSeq: rows.length > page.limit ? items[items.length - 1].recordSeq : null };
  }

  /**
   * A workspace's backfills, newest first: those the caller's tenant ran, or, in the platform scope,
   * every tenant's (a previous owner's too).
   * @throws WorkspaceNotFoundError (missing, or another tenant's)
   */
  async list(scope: TenantScope, workspaceId: string): Promise<Backfill[]> {
    await this.tenants.resolveIn(scope, workspaceId);
    return scope.kind === 'platform'
      ? this.backfills.listByWorkspaceAnyTenant(workspaceId)
      : this.backfills.listByWorkspace(scope.tenantId, workspaceId);
  }

  /**
   * Cancels a backfill in any state that has not ended: when no live worker holds it (queued,
   * orphaned by a dead worker, lost by the queue) it ends `cancelled` at once and its queue entry,
   * sealed key included, is removed; a running one stops after its current page.
   * @throws BackfillNotFoundError, BackfillNotCancellableError (it has already ended)
   */
  async cancel(scope: TenantScope, backfillId: string): Promise<void> {
    const backfill = await this.get(scope, backfillId);
    if (!ACTIVE_STATUSES.includes(backfill.status)) throw new BackfillNotCancellableError(backfill.status);
    await this.stop(backfill.tenantId, backfill.id);
  }

  /**
   * Cancels every active backfill of a workspace (see cancel), whichever tenant started it: for a
   * deletion or transfer of the workspace, whose caller was checked already. The ids it cancelled or asked to stop.
   */
  async cancelActive(workspaceId: string): Promise<string[]> {
    const active = await this.backfills.listActiveAnyTenant(workspaceId);
    for (const backfill of active) await this.stop(backfill.tenantId, backfill.id);
    return active.map((b) => b.id);
  }

  private async stop(tenantId: string, backfillId: string): Promise<void> {
    await this.backfills.requestCancel(tenantId, backfillId);
    if (await this.queue.removeUnlessRunning(JobName.Backfill, backfillId))
      await this.backfills.finish(tenantId, backfillId, BackfillStatus.cancelled);
  }
}

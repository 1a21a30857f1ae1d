import { Injectable } from '@nestjs/common';
import type { RequestKey } from '#libs/common';
import { RequestKeySealer } from '#libs/byok';
import { type Backfill, BackfillStatus } from '#libs/database';
import { JobName, JobQueue } from '#libs/queue';
import type { RecordSourceName } from '#libs/records';
import { TenantResolver } from '#libs/tenancy';
import { ACTIVE_STATUSES, BackfillRepository } from './backfill.repository.js';
import { BackfillAlreadyActiveError, BackfillNotCancellableError, BackfillNotFoundError } from './backfill.errors.js';

/** The API side of backfills: start (one active per workspace), read, list, cancel. */
@Injectable()
export class BackfillService {
  constructor(
    private readonly backfills: BackfillRepository,
    private readonly queue: JobQueue,
    private readonly tenants: TenantResolver,
    private readonly sealer: RequestKeySealer,
  ) {}

  /**
   * Queues a backfill of a workspace's records from `source`. `requestKey`: the caller's own key for
   * this backfill only; it rides in the queue sealed to the job.
   * @throws WorkspaceNotFoundError, BackfillAlreadyActiveError
   */
  async start(workspaceId: string, source: RecordSourceName, requestKey?: RequestKey): Promise<Backfill> {
    const tenant = await this.tenants.resolve(workspaceId);
    const backfill = await this.backfills.createQueued(workspaceId, tenant.tenantId, source);
    if (!backfill) {
      const active = await this.backfills.findActive(workspaceId);
      throw new BackfillAlreadyActiveError(active?.id ?? 'unknown');
    }
    try {
      await this.queue.enqueue(JobName.Backfill, {
        backfillId: backfill.id,
        ...(requestKey ? { sealedKey: this.sealer.seal(requestKey, backfill.id) } : {}),
      });
    } catch (error) {
      // nothing would ever run it: do not leave a queued row that blocks the workspace
      await this.backfills.delete(backfill.id);
      throw error;
    }
    return backfill;
  }

  /**
   * A backfill of the given tenant (null: any tenant, for the platform admin); others read as not found.
   * @throws BackfillNotFoundError
   */
  async get(backfillId: string, tenantId: string | null): Promise<Backfill> {
    const backfill = await this.backfills.findById(backfillId);
    if (!backfill || (tenantId !== null && backfill.tenantId !== tenantId)) throw new BackfillNotFoundError(backfillId);
    return backfill;
  }

  list(workspaceId: string): Promise<Backfill[]> {
    return this.backfills.listByWorkspace(workspaceId);
  }

  /**
   * A queued backfill ends at once; a running one stops after its current page.
   * @throws BackfillNotFoundError, BackfillNotCancellableError (it has already ended)
   */
  async cancel(backfillId: string, tenantId: string | null): Promise<void> {
    const backfill = await this.get(backfillId, tenantId);
    if (!ACTIVE_STATUSES.includes(backfill.status)) throw new BackfillNotCancellableError(backfill.status);
    await this.backfills.requestCancel(backfill.id);
    if (backfill.status === BackfillStatus.queued) {
      await this.queue.removeIfWaiting(JobName.Backfill, backfill.id);
      await this.backfills.finish(backfill.id, BackfillStatus.cancelled);
    }
  }
}

import { Injectable } from '@nestjs/common';
import { type RequestKey, RequestKeySealer } from '#libs/byok';
import { type SyncJob, SyncJobStatus } from '#libs/database';
import { JobName, JobQueue } from '#libs/queue';
import { TenantResolver } from '#libs/tenancy';
import { type RecordSourceName } from './source-record.js';
import { ACTIVE_STATUSES, SyncJobRepository } from './sync-job.repository.js';
import { BackfillAlreadyActiveError, BackfillNotCancellableError, SyncJobNotFoundError } from './sync.errors.js';

/** The API side of backfills: start (one active per workspace), read, list, cancel. */
@Injectable()
export class BackfillService {
  constructor(
    private readonly jobs: SyncJobRepository,
    private readonly queue: JobQueue,
    private readonly tenants: TenantResolver,
    private readonly sealer: RequestKeySealer,
  ) {}

  /** `requestKey`: the caller's own key for this backfill only; it rides in the queue sealed to the job. */
  async start(workspaceId: string, source: RecordSourceName, requestKey?: RequestKey): Promise<SyncJob> {
    const tenant = await this.tenants.resolve(workspaceId);
    const job = await this.jobs.createQueued(workspaceId, tenant.tenantId, source);
    if (!job) {
      const active = await this.jobs.findActive(workspaceId);
      throw new BackfillAlreadyActiveError(active?.id ?? 'unknown');
    }
    try {
      await this.queue.enqueue(JobName.Backfill, {
        syncJobId: job.id,
        ...(requestKey ? { sealedKey: this.sealer.seal(requestKey, job.id) } : {}),
      });
    } catch (error) {
      // nothing would ever run it: do not leave a queued row that blocks the workspace
      await this.jobs.delete(job.id);
      throw error;
    }
    return job;
  }

  /** A job of the given tenant (null: any tenant, for the platform admin); others read as not found. */
  async get(jobId: string, tenantId: string | null): Promise<SyncJob> {
    const job = await this.jobs.findById(jobId);
    if (!job || (tenantId !== null && job.tenantId !== tenantId)) throw new SyncJobNotFoundError(jobId);
    return job;
  }

  list(workspaceId: string): Promise<SyncJob[]> {
    return this.jobs.listByWorkspace(workspaceId);
  }

  /** A queued job ends at once; a running one stops after its current page. */
  async cancel(jobId: string, tenantId: string | null): Promise<void> {
    const job = await this.get(jobId, tenantId);
    if (!ACTIVE_STATUSES.includes(job.status)) throw new BackfillNotCancellableError(job.status);
    await this.jobs.requestCancel(job.id);
    if (job.status === SyncJobStatus.queued) {
      await this.queue.removeIfWaiting(JobName.Backfill, job.id);
      await this.jobs.finish(job.id, SyncJobStatus.cancelled);
    }
  }
}

import { Injectable } from '@nestjs/common';
import { RequestKeySealer } from '#libs/byok';
import { ErrorCode, NotFoundError, type ProviderId, type RequestKey } from '#libs/common';
import type { AiJob } from '#libs/database';
import { JobName, JobQueue } from '#libs/queue';
import { findInScope, type TenantScope } from '#libs/tenancy';
import { AiJobRepository } from './ai-job.repository.js';

export const AI_EXTRACT = 'extract';

export class AiJobNotFoundError extends NotFoundError {
  constructor(jobId: string) {
    super(`AI job ${jobId} not found`, ErrorCode.AiJobNotFound);
  }
}

/** The API side of AI jobs: the row holds the input; a request key rides in the queue, sealed to the job. */
@Injectable()
export class AiJobService {
  constructor(
    private readonly jobs: AiJobRepository,
    private readonly queue: JobQueue,
    private readonly sealer: RequestKeySealer,
  ) {}

  /** Queues an extract job of a tenant already settled by the caller (`TenantService.actingFor`). */
  async createExtract(tenantId: string, text: string, options: { provider?: ProviderId; requestKey?: RequestKey }): Promise<AiJob> {
    const job = await this.jobs.create(tenantId, AI_EXTRACT, { text, ...(options.provider ? { provider: options.provider } : {}) });
    try {
      await this.queue.enqueue(JobName.AiExtract, {
        aiJobId: job.id,
        ...(options.requestKey ? { sealedKey: this.sealer.seal(options.requestKey, { jobId: job.id, tenantId }) } : {}),
      });
    } catch (error) {
      await this.jobs.delete(tenantId, job.id);
      throw error;
    }
    return job;
  }

  /**
   * A job as a caller in `scope` addresses it; another tenant's reads as not found.
   * @throws AiJobNotFoundError
   */
  async get(scope: TenantScope, jobId: string): Promise<AiJob> {
    const job = await findInScope(
      scope,
      () => this.jobs.ownerOf(jobId),
      (tenantId) => this.jobs.findById(tenantId, jobId),
    );
    if (!job) throw new AiJobNotFoundError(jobId);
    return job;
  }
}

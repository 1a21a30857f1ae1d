import type { JobsOptions } from 'bullmq';
import type { SealedRequestKey } from '#libs/common';

/**
 * Every queue and job of the product, declared once. The string values are stored in Redis and
 * shared by API and worker processes of different versions: they never change once released.
 */
export enum QueueName {
  // renamed from 'historical-sync' in 0.2: drain that queue before upgrading (README, "Upgrading")
  Backfills = 'backfills',
  AiJobs = 'ai-jobs',
  // workspace deletions have their own queue: they never wait behind long backfills of other workspaces
  Deletions = 'deletions',
  // webhook deliveries: short HTTP calls that must never wait behind backfills
  Webhooks = 'webhooks',
}

export enum JobName {
  Backfill = 'backfill',
  AiExtract = 'ai-extract',
  WorkspaceDeletion = 'workspace-deletion',
  WebhookDelivery = 'webhook-delivery',
}

export interface JobPayloads {
  /**
   * Everything else lives in the `backfills` row; the payload carries no key and no record. `tenantId`
   * (the row's, absent in entries queued before 0.3) lets workers see whose jobs wait for a slot.
   */
  [JobName.Backfill]: { backfillId: string; tenantId?: string; sealedKey?: SealedRequestKey };
  /** `sealedKey`: a request's own key, sealed to this job; erased from Redis when the job ends. */
  [JobName.AiExtract]: { aiJobId: string; sealedKey?: SealedRequestKey };
  /** Everything else lives in the `workspace_deletions` row (which workspace, counts so far); no key, no data. */
  [JobName.WorkspaceDeletion]: { deletionId: string };
  /**
   * One event to one endpoint: the `webhook_deliveries` row (whose id is derived from the event's and
   * the endpoint's, so a re-dispatch is the same job) holds the rest; no URL, no secret, no event data.
   */
  [JobName.WebhookDelivery]: { deliveryId: string; tenantId: string };
}

export type JobOf<Name extends JobName> = JobPayloads[Name];

export const QUEUE_OF: Readonly<Record<JobName, QueueName>> = {
  [JobName.Backfill]: QueueName.Backfills,
  [JobName.AiExtract]: QueueName.AiJobs,
  [JobName.WorkspaceDeletion]: QueueName.Deletions,
  [JobName.WebhookDelivery]: QueueName.Webhooks,
};

/**
 * Retries, de-duplication and retention, set here and nowhere else. BullMQ-level attempts cover
 * crashes and infrastructure errors (the job resumes from its checkpoint); provider retries are
 * done per call inside the job, and typed non-retryable failures end the job at once.
 */
export function jobOptions<Name extends JobName>(name: Name, payload: JobOf<Name>): JobsOptions {
  switch (name) {
    case JobName.Backfill:
      return {
        jobId: (payload as JobOf<JobName.Backfill>).backfillId,
        attempts: 3,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: { age: 24 * 3600, count: 1_000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
      };
    case JobName.AiExtract:
      // the row in Postgres is the record; a finished queue entry is kept a while, as a backfill's
      // is, for inspection: any sealed key has been erased from it when the run ended
      return {
        jobId: (payload as JobOf<JobName.AiExtract>).aiJobId,
        attempts: 2,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: { age: 24 * 3600, count: 1_000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
      };
    case JobName.WorkspaceDeletion:
      // every batch commits on its own and a re-run starts where the last one stopped, so attempts
      // are cheap; after the last one the reconciler hands the job to the queue again (a few times)
      return {
        jobId: (payload as JobOf<JobName.WorkspaceDeletion>).deletionId,
        attempts: 5,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: { age: 24 * 3600, count: 1_000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
      };
    case JobName.WebhookDelivery:
      // a delivery's own retries (WEBHOOK_MAX_ATTEMPTS, backoff with jitter) are counted on its row and
      // use no queue attempt (the handler defers the job); these attempts cover crashes and outages only
      return {
        jobId: (payload as JobOf<JobName.WebhookDelivery>).deliveryId,
        attempts: 5,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: { age: 24 * 3600, count: 5_000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 5_000 },
      };
    default:
      throw new Error(`No job options for ${String(name)}`);
  }
}

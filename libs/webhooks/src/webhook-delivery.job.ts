import { Injectable, Logger } from '@nestjs/common';
import { KeyCipher, KeyDecryptionError } from '#libs/byok';
import { ErrorCode } from '#libs/common';
import { AppConfig } from '#libs/config';
import { EgressClient, EgressFailedError, EgressRefusedError } from '#libs/egress';
import { HandlesJob, type JobFailure, type JobHandler, JobName, type JobOf, type JobRunResult, type UnfinishedJob } from '#libs/queue';
import { type AttemptResult, WebhookDeliveryRepository } from './webhook-delivery.repository.js';
import { sealedSecretOf, WebhookEndpointRepository } from './webhook-endpoint.repository.js';
import { WEBHOOK_TEST_EVENT } from './webhook-events.js';
import { signWebhook } from './webhook-signature.js';
import { webhookSecretContext } from './webhook.service.js';

/**
 * The wait (ms) before attempt `attempt + 1`: base * 2^(attempt-1), times a random factor in
 * [0.8, 1.2) so that many deliveries failing together do not retry together ("full jitter" would
 * also do; AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function webhookBackoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return Math.round(baseMs * 2 ** (attempt - 1) * (0.8 + 0.4 * random()));
}

/**
 * Sends one delivery (Standard Webhooks): POST `{ type, timestamp, data }` with `webhook-id` (the
 * event's id, the same at every attempt), `webhook-timestamp` (seconds) and `webhook-signature`,
 * through EgressClient within WEBHOOK_TIMEOUT_MS. A 2xx delivers it. Anything else is logged and
 * retried after `webhookBackoffMs` (the job is deferred: no queue attempt used) until
 * WEBHOOK_MAX_ATTEMPTS, then dead-lettered `failed`. A refused address (EGRESS_REFUSED) is
 * dead-lettered at once: the policy will not change its mind by itself. The attempt is counted
 * before it is sent, so a worker killed mid-send leaves a counted, `interrupted` attempt and the
 * queue's next run goes on from there: every delivery ends delivered or failed.
 */
@Injectable()
@HandlesJob(JobName.WebhookDelivery)
export class WebhookDeliveryJob implements JobHandler<JobName.WebhookDelivery> {
  private readonly logger = new Logger(WebhookDeliveryJob.name);

  constructor(
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly endpoints: WebhookEndpointRepository,
    private readonly cipher: KeyCipher,
    private readonly egress: EgressClient,
    private readonly config: AppConfig,
  ) {}

  async run({ deliveryId, tenantId }: JobOf<JobName.WebhookDelivery>): Promise<JobRunResult> {
    const delivery = await this.deliveries.findById(tenantId, deliveryId);
    if (!delivery || delivery.status !== 'pending') return { status: 'skipped' };
    const endpoint = await this.endpoints.findById(tenantId, delivery.endpointId);
    if (!endpoint) return { status: 'skipped' }; // deleted: its deliveries went with it
    const { maxAttempts, retryBaseMs, timeoutMs } = this.config.webhooks;
    if (!endpoint.enabled && delivery.eventType !== WEBHOOK_TEST_EVENT) {
      return this.deadLetter(tenantId, deliveryId, {
        code: 'ENDPOINT_DISABLED',
        message: 'The endpoint was disabled before this event was delivered.',
      });
    }
    if (delivery.attempts >= maxAttempts) {
      return this.deadLetter(tenantId, deliveryId, {
        code: ErrorCode.WorkerLost,
        message: `All ${maxAttempts} attempts were used (the last was interrupted).`,
      });
    }
    let secret: string;
    try {
      secret = this.cipher.decrypt(sealedSecretOf(endpoint), webhookSecretContext(tenantId, endpoint.id), 'The webhook signing secret');
    } catch (error) {
      // a secret sealed under a master key version no longer configured: no attempt can sign, now or later
      if (!(error instanceof KeyDecryptionError)) throw error;
      return this.deadLetter(tenantId, deliveryId, { code: error.code, message: error.message });
    }
    const attempt = await this.deliveries.beginAttempt(tenantId, deliveryId);
    if (attempt === null) return { status: 'skipped' };

    const event = delivery.event;
    const body = JSON.stringify({ type: event.type, timestamp: event.createdAt.toISOString(), data: event.data });
    const timestamp = Math.floor(Date.now() / 1000);
    const started = performance.now();
    let result: AttemptResult;
    try {
      const answer = await this.egress.post(endpoint.url, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'byok-llm-backend-webhooks/1',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(secret, event.id, timestamp, body),
        },
        body,
        timeoutMs,
      });
      const delivered = answer.status >= 200 && answer.status < 300;
      result = {
        outcome: delivered ? 'delivered' : 'failed',
        statusCode: answer.status,
        durationMs: elapsed(started),
        errorClass: delivered ? null : 'http_status',
      };
    } catch (error) {
      if (!(error instanceof EgressRefusedError) && !(error instanceof EgressFailedError)) throw error;
      result = {
        outcome: 'failed',
        statusCode: null,
        durationMs: elapsed(started),
        errorClass: error instanceof EgressRefusedError ? error.code : error.kind,
      };
      if (error instanceof EgressRefusedError) {
        await this.deliveries.endAttempt(tenantId, deliveryId, attempt, result, true);
        return { status: 'failed', failure: { code: error.code, message: error.message } };
      }
    }
    const final = result.outcome === 'delivered' || attempt >= maxAttempts;
    await this.deliveries.endAttempt(tenantId, deliveryId, attempt, result, final);
    if (result.outcome === 'delivered') return { status: 'succeeded' };
    if (final) {
      this.logger.warn({ deliveryId, attempts: attempt, errorClass: result.errorClass }, 'Webhook delivery dead-lettered');
      return {
        status: 'failed',
        failure: { code: 'DELIVERY_FAILED', message: `No 2xx answer after ${attempt} attempts (last: ${result.errorClass})` },
      };
    }
    return { status: 'deferred', delayMs: webhookBackoffMs(attempt, retryBaseMs) };
  }

  unfinished(): Promise<UnfinishedJob[]> {
    return this.deliveries.unfinished();
  }

  async settleLost(deliveryId: string, failure: JobFailure): Promise<boolean> {
    const tenantId = await this.deliveries.ownerOf(deliveryId);
    return tenantId !== null && this.deliveries.fail(tenantId, deliveryId, failure.code);
  }

  private async deadLetter(tenantId: string, deliveryId: string, failure: JobFailure): Promise<JobRunResult> {
    await this.deliveries.fail(tenantId, deliveryId, failure.code);
    return { status: 'failed', failure };
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { JobName, JobQueue } from '#libs/queue';
import { WebhookOutboxRepository } from './webhook-outbox.repository.js';

/** Events dispatched, and deliveries enqueued, per pass step. */
const BATCH = 100;

/**
 * Runs in every worker: every `WEBHOOK_DISPATCH_INTERVAL_MS` it turns undispatched outbox events into
 * deliveries (one transaction per batch, SKIP LOCKED between workers), then hands every pending
 * delivery the queue may lack to it (one job per delivery, its id the delivery's, so a repeat is a
 * no-op) and notes it queued. A crash anywhere leaves the event undispatched or the delivery
 * unqueued, and the next pass of any worker picks it up: every event reaches its endpoints.
 * A pass that cannot reach Postgres or Redis changes nothing more and is tried again.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly outbox: WebhookOutboxRepository,
    private readonly queue: JobQueue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.pass(), this.config.webhooks.dispatchIntervalMs);
    this.timer.unref();
    void this.pass();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass (a pass already running is joined, not doubled). */
  pass(): Promise<void> {
    this.running ??= this.dispatchAndEnqueue().finally(() => (this.running = undefined));
    return this.running;
  }

  private async dispatchAndEnqueue(): Promise<void> {
    try {
      while ((await this.outbox.dispatch(BATCH)) === BATCH);
      for (let deliveries = await this.outbox.unqueued(BATCH); deliveries.length > 0; deliveries = await this.outbox.unqueued(BATCH)) {
        for (const delivery of deliveries)
          await this.queue.enqueue(JobName.WebhookDelivery, { deliveryId: delivery.id, tenantId: delivery.tenantId });
        await this.outbox.markQueued(deliveries.map((d) => d.id));
        if (deliveries.length < BATCH) break;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'Webhook dispatch pass could not finish; the next pass tries again');
    }
  }
}

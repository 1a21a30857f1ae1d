import { Injectable } from '@nestjs/common';
import type { Tx } from '#libs/database';
import type { WebhookEventData, WebhookEventType } from './webhook-events.js';
import { WebhookOutboxRepository } from './webhook-outbox.repository.js';

/**
 * Announces what happened to a tenant's subscribed endpoints. An event is a row of the outbox: pass
 * the transaction of the change it announces (`tx`) so the two commit or roll back together; a
 * worker's dispatcher turns it into deliveries. Callers: the backfill's finish (`backfill.*`), key
 * verdicts (`key.invalid`), budgets (`budget.threshold`).
 */
@Injectable()
export class WebhookPublisher {
  constructor(private readonly outbox: WebhookOutboxRepository) {}

  /** Returns the event's id (the `webhook-id` its deliveries carry). `data`: ids, codes, safe messages, counts; never a key. */
  publish(tenantId: string, type: WebhookEventType, data: WebhookEventData, tx?: Tx): Promise<string> {
    return this.outbox.append(tenantId, type, data, tx);
  }
}

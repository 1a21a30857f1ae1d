import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '#libs/database';
import type { PublishedEventType, WebhookEventData } from './webhook-events.js';

/** A delivery the dispatcher created (or found) and must hand to the queue. */
export interface UnqueuedDelivery {
  id: string;
  tenantId: string;
}

/**
 * The id of the delivery of `eventId` to `endpointId`: a UUID (version 8, RFC 9562 section 5.8)
 * from SHA-256 of both, so a re-dispatch after a crash finds the same row and the same queue job.
 */
export function deliveryIdOf(eventId: string, endpointId: string): string {
  const hex = createHash('sha256').update(`${eventId}.${endpointId}`).digest('hex').slice(0, 32).split('');
  hex[12] = '8';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * webhook_events (the outbox) and the step that turns them into deliveries. `append` takes the tenant
 * id first; `dispatch` and `unqueued` work across tenants by nature (a worker's sweep), and say so:
 * each delivery they create carries its event's tenant and goes only to that tenant's endpoints.
 */
@Injectable()
export class WebhookOutboxRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Writes an event inside `tx` (the transaction of the change it announces) when given. Returns its id. */
  async append(tenantId: string, type: PublishedEventType, data: WebhookEventData, tx?: Tx, endpointId?: string): Promise<string> {
    const id = randomUUID();
    await (tx ?? this.prisma).webhookEvent.create({
      data: { id, tenantId, type, data, endpointId: endpointId ?? null },
    });
    return id;
  }

  /**
   * Dispatches up to `limit` undispatched events, oldest first, in one transaction: each gets one
   * pending delivery per enabled endpoint of its tenant subscribed to its type (or its one target
   * endpoint), then is marked dispatched. Rows locked by a concurrent pass are skipped
   * (FOR UPDATE SKIP LOCKED), so several workers never dispatch an event twice; a pass that dies
   * leaves its events undispatched for the next. Returns how many events it dispatched.
   */
  async dispatch(limit: number): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      const events = await tx.$queryRaw<{ id: string; tenant_id: string; type: string; endpoint_id: string | null }[]>`
        SELECT id, tenant_id, type, endpoint_id FROM webhook_events
        WHERE dispatched_at IS NULL ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      for (const event of events) {
        const endpoints = await tx.webhookEndpoint.findMany({
          where: event.endpoint_id
            ? { tenantId: event.tenant_id, id: event.endpoint_id }
            : { tenantId: event.tenant_id, enabled: true, events: { has: event.type } },
          select: { id: true },
        });
        if (endpoints.length > 0) {
          await tx.webhookDelivery.createMany({
            data: endpoints.map((endpoint) => ({
              id: deliveryIdOf(event.id, endpoint.id),
              tenantId: event.tenant_id,
              endpointId: endpoint.id,
              eventId: event.id,
              eventType: event.type,
            })),
            skipDuplicates: true,
          });
        }
      }
      if (events.length > 0) {
        await tx.webhookEvent.updateMany({ where: { id: { in: events.map((e) => e.id) } }, data: { dispatchedAt: new Date() } });
      }
      return events.length;
    });
  }

  /** Pending deliveries the queue may not have yet (a pass died between its commit and its enqueue), oldest first. */
  unqueued(limit: number): Promise<UnqueuedDelivery[]> {
    return this.prisma.webhookDelivery.findMany({
      where: { status: 'pending', enqueuedAt: null },
      orderBy: { createdAt: 'asc' },
      take: limit,
      select: { id: true, tenantId: true },
    });
  }

  /** Notes that the queue has these deliveries' jobs. */
  async markQueued(ids: string[]): Promise<void> {
    if (ids.length > 0)
      await this.prisma.webhookDelivery.updateMany({ where: { id: { in: ids }, enqueuedAt: null }, data: { enqueuedAt: new Date() } });
  }
}

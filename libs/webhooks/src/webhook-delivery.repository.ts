import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { isUuid } from '#libs/common';
import { PrismaService, type WebhookDelivery, WebhookDeliveryStatus, type WebhookEvent } from '#libs/database';
import type { UnfinishedJob } from '#libs/queue';

/** How one attempt ended: delivered (2xx), failed (any other answer or none), interrupted (its worker died). */
export type AttemptOutcome = 'delivered' | 'failed' | 'interrupted';

/** What an attempt learnt; no body, no header, no URL. */
export interface AttemptResult {
  outcome: 'delivered' | 'failed';
  statusCode: number | null;
  durationMs: number;
  /** `http_status`, an egress failure kind (`timeout`, `dns`, `connection`, `tls`, `network`) or `EGRESS_REFUSED`; null when delivered. */
  errorClass: string | null;
}

/** One row of an endpoint's delivery log. */
export interface DeliveryLogEntry {
  id: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  deliveryStatus: WebhookDeliveryStatus;
  attempt: number;
  outcome: AttemptOutcome | null;
  statusCode: number | null;
  durationMs: number | null;
  errorClass: string | null;
  attemptedAt: Date;
}

/**
 * webhook_deliveries and their attempt log. Every method on one tenant's rows takes the tenant id
 * first and puts it in the WHERE; `unfinished` is the reconciler's read across tenants (ids only).
 */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The tenant's delivery with its event; null for a missing id or another tenant's. */
  findById(tenantId: string, deliveryId: string): Promise<(WebhookDelivery & { event: WebhookEvent }) | null> {
    if (!isUuid(deliveryId)) return Promise.resolve(null);
    return this.prisma.webhookDelivery.findUnique({ where: { id: deliveryId, tenantId }, include: { event: true } });
  }

  /**
   * Counts a new attempt before it is sent (so a crash mid-send still counts it), marks attempts a
   * dead run left in flight `interrupted`, and logs the new one in flight. Returns its number, or
   * null when the delivery is no longer pending.
   */
  beginAttempt(tenantId: string, deliveryId: string): Promise<number | null> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.webhookDelivery.updateManyAndReturn({
        where: { id: deliveryId, tenantId, status: WebhookDeliveryStatus.pending },
        data: { attempts: { increment: 1 } },
      });
      const delivery = rows[0];
      if (!delivery) return null;
      await tx.webhookDeliveryAttempt.updateMany({ where: { deliveryId, tenantId, outcome: null }, data: { outcome: 'interrupted' } });
      await tx.webhookDeliveryAttempt.create({
        data: { id: randomUUID(), tenantId, endpointId: delivery.endpointId, deliveryId, attempt: delivery.attempts },
      });
      return delivery.attempts;
    });
  }

  /**
   * Logs an attempt's result; `final` ends the delivery (`delivered`, or `failed`: dead-lettered),
   * otherwise it stays pending for the next attempt. Nothing changes once the delivery ended.
   */
  async endAttempt(tenantId: string, deliveryId: string, attempt: number, result: AttemptResult, final: boolean): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.webhookDeliveryAttempt.updateMany({
        where: { deliveryId, tenantId, attempt },
        data: { outcome: result.outcome, statusCode: result.statusCode, durationMs: result.durationMs, errorClass: result.errorClass },
      });
      await tx.webhookDelivery.updateMany({
        where: { id: deliveryId, tenantId, status: WebhookDeliveryStatus.pending },
        data: {
          lastStatusCode: result.statusCode,
          lastError: result.errorClass,
          ...(final
            ? { status: result.outcome === 'delivered' ? WebhookDeliveryStatus.delivered : WebhookDeliveryStatus.failed, finishedAt: new Date() }
            : {}),
        },
      });
    });
  }

  /**
   * Dead-letters a pending delivery with `reason` (a code), and marks the attempt a dead run left in
   * flight `interrupted`, in one transaction: no reader sees a failed delivery with an attempt still
   * in flight. False when it had already ended.
   */
  async fail(tenantId: string, deliveryId: string, reason: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.webhookDelivery.updateMany({
        where: { id: deliveryId, tenantId, status: WebhookDeliveryStatus.pending },
        data: { status: WebhookDeliveryStatus.failed, lastError: reason, finishedAt: new Date() },
      });
      await tx.webhookDeliveryAttempt.updateMany({ where: { deliveryId, tenantId, outcome: null }, data: { outcome: 'interrupted' } });
      return count > 0;
    });
  }

  /** The tenant whose delivery this is (the job runtime knows a job by id alone); null when it is gone. */
  async ownerOf(deliveryId: string): Promise<string | null> {
    if (!isUuid(deliveryId)) return null;
    const row = await this.prisma.webhookDelivery.findUnique({ where: { id: deliveryId }, select: { tenantId: true } });
    return row?.tenantId ?? null;
  }

  /** Pending deliveries the queue has (the reconciler's, across tenants): ids and when each last changed. */
  unfinished(): Promise<UnfinishedJob[]> {
    return this.prisma.webhookDelivery.findMany({
      where: { status: WebhookDeliveryStatus.pending, enqueuedAt: { not: null } },
      select: { id: true, updatedAt: true },
    });
  }

  /** An endpoint's delivery log, newest attempt first, `limit` per page after `beforeSeq` (keyset). */
  async log(
    tenantId: string,
    endpointId: string,
    limit: number,
    beforeSeq?: bigint,
  ): Promise<{ items: DeliveryLogEntry[]; nextCursor: string | null }> {
    // the attempts and their deliveries are two queries: one snapshot for both, or a reader could see a
    // delivery already ended beside its attempt still in flight (endAttempt changes both in one commit)
    const rows = await this.prisma.$transaction(
      (tx) =>
        tx.webhookDeliveryAttempt.findMany({
          where: { tenantId, endpointId, ...(beforeSeq !== undefined ? { seq: { lt: beforeSeq } } : {}) },
          orderBy: { seq: 'desc' },
          take: limit + 1,
          include: { delivery: { select: { eventId: true, eventType: true, status: true } } },
        }),
      { isolationLevel: 'RepeatableRead' },
    );
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => ({
        id: row.id,
        deliveryId: row.deliveryId,
        eventId: row.delivery.eventId,
        eventType: row.delivery.eventType,
        deliveryStatus: row.delivery.status,
        attempt: row.attempt,
        outcome: row.outcome as AttemptOutcome | null,
        statusCode: row.statusCode,
        durationMs: row.durationMs,
        errorClass: row.errorClass,
        attemptedAt: row.attemptedAt,
      })),
      nextCursor: rows.length > limit ? String(page[page.length - 1].seq) : null,
    };
  }
}

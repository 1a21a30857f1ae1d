import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import { EGRESS_URL_MAX_CHARS } from '#libs/egress';
import { type DeliveryLogEntry, type IssuedWebhookEndpoint, WEBHOOK_EVENT_TYPES, type WebhookEndpointInfo } from '#libs/webhooks';
import { pageLimit, seqCursor } from '../http/page-query.js';

export const WEBHOOK_LOG_MAX_LIMIT = 100;

const url = z
  .string({ error: 'url must be a string' })
  .trim()
  .min(1, { error: 'url must not be empty' })
  .max(EGRESS_URL_MAX_CHARS, { error: `url must be at most ${EGRESS_URL_MAX_CHARS} characters` })
  .meta({ example: 'https://hooks.example.com/byok', description: 'https (http only when the operator allows it); checked again at every delivery' });

const description = z
  .string({ error: 'description must be a string' })
  .trim()
  .max(200, { error: 'description must be at most 200 characters' })
  // shown in lists: no control characters to forge lines with
  .regex(/^[^\p{Cc}]*$/u, { error: 'description must not contain control characters' })
  .nullable()
  .meta({ example: 'Alerts to the ops channel' });

const events = z
  .array(z.enum(WEBHOOK_EVENT_TYPES, { error: `events must be some of ${WEBHOOK_EVENT_TYPES.join(', ')}` }), { error: 'events must be an array' })
  .min(1, { error: 'events must name at least one event' })
  .max(WEBHOOK_EVENT_TYPES.length * 2, { error: 'events lists too many entries' })
  .meta({ description: 'The events this endpoint receives' });

const enabled = z.boolean({ error: 'enabled must be true or false' });

export const createWebhookBody = z.strictObject({ url, description: description.optional(), events, enabled: enabled.default(true) });
export type CreateWebhookBody = z.output<typeof createWebhookBody>;

export const updateWebhookBody = z
  .strictObject({ url: url.optional(), description: description.optional(), events: events.optional(), enabled: enabled.optional() })
  .refine((body) => Object.keys(body).length > 0, { error: 'Send at least one of url, description, events, enabled' });
export type UpdateWebhookBody = z.output<typeof updateWebhookBody>;

export const deliveryLogQuery = z.strictObject({
  cursor: seqCursor(),
  limit: pageLimit(WEBHOOK_LOG_MAX_LIMIT, 50, 'Attempts'),
});
export type DeliveryLogQuery = z.output<typeof deliveryLogQuery>;

export const webhookView = z.object({
  id: uuidSchema(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  secretMasked: z.string().meta({ example: 'whsec_…Xy9Q', description: 'The signing secret masked; it is shown in full only once' }),
  createdAt: z.date(),
  updatedAt: z.date(),
  secretRotatedAt: z.date().nullable(),
});

export const issuedWebhookView = webhookView.extend({
  secret: z.string().meta({ description: 'The signing secret (whsec_...), shown once: store it to verify webhook-signature' }),
});
export type IssuedWebhookView = z.output<typeof issuedWebhookView>;

export const webhookListView = z.object({ items: z.array(webhookView) });

export const webhookTestView = z.object({ eventId: uuidSchema().meta({ description: 'The webhook-id the ping carries' }) });

export const deliveryLogView = z.object({
  items: z.array(
    z.object({
      id: uuidSchema(),
      deliveryId: uuidSchema(),
      eventId: uuidSchema().meta({ description: 'The webhook-id header the receiver saw' }),
      eventType: z.string(),
      deliveryStatus: z.enum(['pending', 'delivered', 'failed']),
      attempt: z.number().int(),
      outcome: z.enum(['delivered', 'failed', 'interrupted']).nullable().meta({ description: 'null while the attempt is in flight' }),
      statusCode: z.number().int().nullable(),
      durationMs: z.number().int().nullable(),
      errorClass: z
        .string()
        .nullable()
        .meta({ example: 'http_status', description: 'http_status, timeout, dns, connection, tls, network or EGRESS_REFUSED' }),
      attemptedAt: z.date(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

export function toIssuedWebhookView(issued: IssuedWebhookEndpoint): IssuedWebhookView {
  return { ...issued.endpoint, secret: issued.secret };
}

export function toWebhookListView(items: WebhookEndpointInfo[]): { items: WebhookEndpointInfo[] } {
  return { items };
}

export type DeliveryLogPage = { items: DeliveryLogEntry[]; nextCursor: string | null };

import type { z } from 'zod';
import { EXAMPLE } from '../http/example-values.js';
import type { deliveryLogView, IssuedWebhookView } from './webhooks.dto.js';

/** Example answers of the webhook routes (documentation only; checked against their views at load). */
export const issuedWebhookExample: IssuedWebhookView = {
  id: EXAMPLE.webhookId,
  url: 'https://hooks.example.com/byok',
  description: 'Alerts to the ops channel',
  events: ['backfill.succeeded', 'backfill.failed', 'key.invalid'],
  enabled: true,
  secretMasked: 'whsec_…xxxx',
  createdAt: EXAMPLE.createdAt,
  updatedAt: EXAMPLE.createdAt,
  secretRotatedAt: null,
  // `whsec_` and 32 x's: the shape of a signing secret, plainly not one
  secret: `whsec_${'x'.repeat(32)}`,
};

const { secret: _shownOnce, ...webhookInfo } = issuedWebhookExample;

export const webhookExample = webhookInfo;

export const rotatedWebhookExample: IssuedWebhookView = {
  ...issuedWebhookExample,
  updatedAt: EXAMPLE.finishedAt,
  secretRotatedAt: EXAMPLE.finishedAt,
};

export const webhookTestExample = { eventId: 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e' };

export const deliveryLogExample: z.output<typeof deliveryLogView> = {
  items: [
    {
      id: 'c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f',
      deliveryId: EXAMPLE.deliveryId,
      eventId: 'f4e5d6c7-b8a9-4b0c-9d1e-3f2a1b0c9d8e',
      eventType: 'backfill.succeeded',
      deliveryStatus: 'delivered',
      attempt: 2,
      outcome: 'delivered',
      statusCode: 200,
      durationMs: 184,
      errorClass: null,
      attemptedAt: EXAMPLE.finishedAt,
    },
    {
      id: 'd4e5f6a7-b8c9-4d0e-9f1a-3b4c5d6e7f80',
      deliveryId: EXAMPLE.deliveryId,
      eventId: 'f4e5d6c7-b8a9-4b0c-9d1e-3f2a1b0c9d8e',
      eventType: 'backfill.succeeded',
      deliveryStatus: 'delivered',
      attempt: 1,
      outcome: 'failed',
      statusCode: 503,
      durationMs: 96,
      errorClass: 'http_status',
      attemptedAt: new Date('2026-03-02T09:26:42.000Z'),
    },
  ],
  nextCursor: null,
};

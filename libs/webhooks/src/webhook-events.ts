/**
 * The events a tenant may subscribe an endpoint to. The values are part of the public contract
 * (payload `type`, the API's `events`): they never change once released.
 */
export const WEBHOOK_EVENT_TYPES = ['backfill.succeeded', 'backfill.failed', 'key.invalid', 'budget.threshold'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The ping `POST .../webhooks/:id/test` sends to one endpoint, whatever it subscribed to. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

/** Anything an event may be published as. */
export type PublishedEventType = WebhookEventType | typeof WEBHOOK_TEST_EVENT;

/**
 * An event's `data`: ids, codes, messages already safe for the API, counts. Never a key, a secret
 * or record content (the canary scan reads every payload the test receiver was sent).
 */
export type WebhookEventData = Readonly<Record<string, string | number | boolean | null | Readonly<Record<string, string | number | null>>>>;

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks' secret prefix: `whsec_` then base64 of the key bytes. */
const SECRET_PREFIX = 'whsec_';
/** Random bytes per secret: the spec asks for 24 to 64; 24 base64-encode to 32 characters with no padding. */
const SECRET_BYTES = 24;

/** A new signing secret: `whsec_` + base64 of 24 random bytes (Standard Webhooks, "Signature scheme"). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** How a secret is shown after creation: the prefix and its last four characters. */
export function maskWebhookSecret(last4: string): string {
  return `${SECRET_PREFIX}…${last4}`;
}

/**
 * The `webhook-signature` header value: `v1,` + base64 of HMAC-SHA256 over `<id>.<timestamp>.<body>`,
 * keyed with the secret's bytes (the base64 after `whsec_`). `timestamp` is whole seconds since the
 * epoch, as sent in `webhook-timestamp`. Source: Standard Webhooks specification, "Signature scheme".
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * Whether a `webhook-signature` header (space-separated `v1,<sig>` entries) holds a valid signature
 * of the message: what a receiver does, kept here for the README's example and the tests. Constant time.
 */
export function verifyWebhook(secret: string, id: string, timestamp: number, body: string, header: string): boolean {
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body));
  return header.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { webhookBackoffMs } from './webhook-delivery.job.js';
import { deliveryIdOf } from './webhook-outbox.repository.js';
import { generateWebhookSecret, maskWebhookSecret, signWebhook, verifyWebhook } from './webhook-signature.js';

describe('Standard Webhooks signatures', () => {
  // the example of the Standard Webhooks specification (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md)
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  it('signs as the specification computes it: v1, then base64 HMAC-SHA256 of "id.timestamp.body" under the decoded secret', () => {
    const expected = createHmac('sha256', Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'))
      .update(`${id}.${timestamp}.${body}`)
      .digest('base64');
    expect(signWebhook(secret, id, timestamp, body)).toBe(`v1,${expected}`);
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies its own signature among several, and refuses a changed body, id, timestamp or secret', () => {
    const header = `v1,bm90IGl0 ${signWebhook(secret, id, timestamp, body)}`;
    expect(verifyWebhook(secret, id, timestamp, body, header)).toBe(true);
    expect(verifyWebhook(secret, id, timestamp, body.replace('2', '3'), header)).toBe(false);
    expect(verifyWebhook(secret, `${id}x`, timestamp, body, header)).toBe(false);
    expect(verifyWebhook(secret, id, timestamp + 1, body, header)).toBe(false);
    expect(verifyWebhook(generateWebhookSecret(), id, timestamp, body, header)).toBe(false);
  });

  it('makes secrets of whsec_ and 24 random bytes, shown masked by their last four characters', () => {
    const made = generateWebhookSecret();
    expect(made).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(made.slice(6), 'base64')).toHaveLength(24);
    expect(made).not.toBe(generateWebhookSecret());
    expect(maskWebhookSecret(made.slice(-4))).toBe(`whsec_…${made.slice(-4)}`);
  });
});

describe(webhookBackoffMs.name, () => {
  it('doubles per attempt within 20% jitter either way', () => {
    expect([1, 2, 3, 4].map((attempt) => webhookBackoffMs(attempt, 1_000, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(webhookBackoffMs(3, 1_000, () => 0)).toBe(3_200);
    expect(webhookBackoffMs(3, 1_000, () => 0.999_999)).toBe(4_800);
    expect(webhookBackoffMs(5, 0)).toBe(0);
  });
});

describe(deliveryIdOf.name, () => {
  it('derives one UUID (version 8) per event and endpoint, the same every time', () => {
    const [event, endpoint] = ['7d9f0c6e-58a1-4c57-9d0e-3a4b1c2d3e4f', '0b8e2f4a-1c3d-4e5f-8a9b-7c6d5e4f3a2b'];
    const id = deliveryIdOf(event, endpoint);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deliveryIdOf(event, endpoint)).toBe(id);
    expect(deliveryIdOf(endpoint, event)).not.toBe(id);
  });
});

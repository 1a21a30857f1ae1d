import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import { eventually, WebhookReceiver, WorkerProcess } from '#libs/testing';
import type { deliveryLogView, IssuedWebhookView } from '../src/webhooks/webhooks.dto.js';
import { ApiHarness, type Json } from './api-harness.js';

type DeliveryLog = z.output<typeof deliveryLogView>;

/**
 * A worker killed (SIGKILL) while its delivery's request is in flight: the queue gives the job to
 * another worker once the lock lapses, the interrupted attempt stays counted and logged, and the
 * delivery still ends delivered, or dead-lettered once the attempts are used up.
 */
/** Waits as this file's cases need: see eventually. */
const eventuallyIn = <T>(what: string, probe: () => Promise<T> | T) => eventually(what, probe, { timeoutMs: 30_000 });

describe('Webhook deliveries survive a killed worker (e2e, real worker processes)', () => {
  const receiver = new WebhookReceiver();
  const workers: WorkerProcess[] = [];
  let api: ApiHarness;

  beforeAll(async () => {
    await receiver.start('127.0.0.2');
    api = await ApiHarness.start({
      EGRESS_ALLOW_HTTP: 'true',
      EGRESS_ALLOWED_CIDRS: '127.0.0.2/32',
      WEBHOOK_MAX_ATTEMPTS: '2',
      WEBHOOK_RETRY_BASE_MS: '20',
      WEBHOOK_TIMEOUT_MS: '20000',
      WEBHOOK_DISPATCH_INTERVAL_MS: '100',
      // a killed worker's job is taken over once its lock lapses
      JOB_LOCK_DURATION_MS: '1500',
    });
  }, 60_000);
  afterEach(async () => {
    receiver.release();
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  });
  afterAll(async () => {
    await api.close();
    await receiver.stop();
  });

  async function worker(): Promise<WorkerProcess> {
    const started = await WorkerProcess.start(api.env);
    workers.push(started);
    return started;
  }

  async function pingHeld(path: string): Promise<{ tenantId: string; endpoint: Json<IssuedWebhookView> }> {
    const tenant = await api.newTenant();
    const created = await api.request<IssuedWebhookView>('POST', `/v1/tenants/${tenant.id}/webhooks`, {
      body: { url: receiver.url(path), events: ['key.invalid'] },
    });
    receiver.hold(path);
    expect((await api.request('POST', `/v1/tenants/${tenant.id}/webhooks/${created.body.id}/test`)).status).toBe(202);
    return { tenantId: tenant.id, endpoint: created.body };
  }

  const settled = (tenantId: string, endpointId: string) =>
    eventuallyIn('the delivery to end', async () => {
      const { body } = await api.request<DeliveryLog>('GET', `/v1/tenants/${tenantId}/webhooks/${endpointId}/deliveries`);
      return body.items.length > 0 && body.items[0].deliveryStatus !== 'pending' ? body.items : null;
    });

  it('delivers at the next attempt after the worker sending it was killed mid-request', async () => {
    const first = await worker();
    const { tenantId, endpoint } = await pingHeld('/killed-once');
    await eventuallyIn('the first request', () => receiver.to('/killed-once').length === 1);
    await first.kill('SIGKILL');
    receiver.release();
    await worker();

    const log = await settled(tenantId, endpoint.id);
    expect(log.map((a) => [a.attempt, a.outcome, a.statusCode, a.deliveryStatus])).toEqual([
      [2, 'delivered', 204, 'delivered'],
      [1, 'interrupted', null, 'delivered'],
    ]);
    const seen = receiver.to('/killed-once');
    expect(seen).toHaveLength(2);
    expect(new Set(seen.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const request of seen) expect(WebhookReceiver.verify(endpoint.secret, request)).toBe(true);
  }, 90_000);

  it('dead-letters a delivery whose every attempt was interrupted', async () => {
    const first = await worker();
    const { tenantId, endpoint } = await pingHeld('/killed-twice');
    await eventuallyIn('the first request', () => receiver.to('/killed-twice').length === 1);
    await first.kill('SIGKILL');
    const second = await worker();
    await eventuallyIn('the second request', () => receiver.to('/killed-twice').length === 2);
    await second.kill('SIGKILL');
    await worker();

    const log = await settled(tenantId, endpoint.id);
    expect(log.map((a) => [a.attempt, a.outcome, a.deliveryStatus])).toEqual([
      [2, 'interrupted', 'failed'],
      [1, 'interrupted', 'failed'],
    ]);
    expect(receiver.to('/killed-twice')).toHaveLength(2);
  }, 90_000);
});

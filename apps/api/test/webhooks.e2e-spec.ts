import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { PrismaService } from '#libs/database';
import { RecordIngestService } from '#libs/records';
import { emailRecords, eventually, ProviderSimulator, simulatorEnv, WebhookReceiver } from '#libs/testing';
import type { deliveryLogView, IssuedWebhookView } from '../src/webhooks/webhooks.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted } from './api-harness.js';

type DeliveryLog = z.output<typeof deliveryLogView>;

/** A delivered body as the receiver parsed it. */
const payload = (body: string) => JSON.parse(body) as { type: string; timestamp: string; data: Record<string, unknown> };

describe('Webhooks (e2e)', () => {
  const key = `sk-tenant-${randomBytes(12).toString('hex')}-7781`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] } });
  // the allow-list names 127.0.0.2 only: the receiver listens there, and a host name resolving to
  // 127.0.0.1 (localhost) stays refused at connect time
  const receiver = new WebhookReceiver();
  const bystander = new WebhookReceiver();
  let api: ApiHarness;

  beforeAll(async () => {
    await receiver.start('127.0.0.2');
    await bystander.start('127.0.0.1');
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        EGRESS_ALLOW_HTTP: 'true',
        EGRESS_ALLOWED_CIDRS: '127.0.0.2/32',
        WEBHOOK_MAX_ATTEMPTS: '3',
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_TIMEOUT_MS: '2000',
        WEBHOOK_DISPATCH_INTERVAL_MS: '100',
        WEBHOOK_MAX_ENDPOINTS: '4',
        SYNC_PAGE_SIZE: '5',
      },
      { worker: true },
    );
  });
  afterAll(async () => {
    await api.close();
    await receiver.stop();
    await bystander.stop();
    await simulator.stop();
  });

  const base = (tenantId: string) => `/v1/tenants/${tenantId}/webhooks`;
  async function endpoint(tenantId: string, path: string, events: string[] = ['backfill.succeeded', 'backfill.failed', 'key.invalid']) {
    const res = await api.request<IssuedWebhookView>('POST', base(tenantId), { body: { url: receiver.url(path), events } });
    expect(res.status).toBe(201);
    return res.body;
  }
  const log = async (tenantId: string, endpointId: string) =>
    (await api.request<DeliveryLog>('GET', `${base(tenantId)}/${endpointId}/deliveries`)).body.items;
  const settledLog = (tenantId: string, endpointId: string, attempts: number) =>
    eventually(`${attempts} settled attempts`, async () => {
      const items = await log(tenantId, endpointId);
      return items.length === attempts && items[0].deliveryStatus !== 'pending' ? items : null;
    });

  it('creates an endpoint with a Standard Webhooks secret shown once, stored sealed, listed masked', async () => {
    const tenant = await api.newTenant();
    const created = await endpoint(tenant.id, '/created');

    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(24);
    expect(created.secretMasked).toBe(`whsec_…${created.secret.slice(-4)}`);
    const listed = await api.request<{ items: Record<string, unknown>[] }>('GET', base(tenant.id));
    expect(listed.body.items).toEqual([expect.objectContaining({ id: created.id, secretMasked: created.secretMasked, enabled: true })]);
    expect(listed.text).not.toContain(created.secret.slice(6));
    const row = await api.app.get(PrismaService).webhookEndpoint.findUniqueOrThrow({ where: { id: created.id } });
    expect(Buffer.from(row.secretCiphertext).toString('latin1')).not.toContain(created.secret.slice(6, 20));
  });

  it('signs a test ping the receiver verifies with its secret, and a tampered body fails the check', async () => {
    const tenant = await api.newTenant();
    const created = await endpoint(tenant.id, '/ping');
    const sent = await api.request<{ eventId: string }>('POST', `${base(tenant.id)}/${created.id}/test`);
    expect(sent.status).toBe(202);

    const [ping] = await eventually('the ping', () => (receiver.to('/ping').length ? receiver.to('/ping') : null));
    expect(ping.headers['webhook-id']).toBe(sent.body.eventId);
    expect(ping.headers['content-type']).toBe('application/json');
    expect(JSON.parse(ping.body)).toEqual({
      type: 'webhook.test',
      timestamp: expect.any(String),
      data: expect.objectContaining({ endpointId: created.id }),
    });
    expect(WebhookReceiver.verify(created.secret, ping)).toBe(true);
    expect(WebhookReceiver.verify(created.secret, { ...ping, body: ping.body.replace('webhook.test', 'webhook.tesT') })).toBe(false);
    expect(WebhookReceiver.verify(created.secret, { ...ping, headers: { ...ping.headers, 'webhook-timestamp': '1' } })).toBe(false);

    const [attempt] = await settledLog(tenant.id, created.id, 1);
    expect(attempt).toMatchObject({
      eventId: sent.body.eventId,
      eventType: 'webhook.test',
      attempt: 1,
      outcome: 'delivered',
      statusCode: 204,
      deliveryStatus: 'delivered',
    });
  });

  it('retries a receiver answering 500 twice, then 200: three attempts with one webhook-id, all in the log', async () => {
    const tenant = await api.newTenant();
    const created = await endpoint(tenant.id, '/flaky');
    receiver.script('/flaky', [500, 500, 200]);
    await api.request('POST', `${base(tenant.id)}/${created.id}/test`);

    const attempts = await settledLog(tenant.id, created.id, 3);
    const seen = receiver.to('/flaky');
    expect(seen.map((r) => r.answeredWith)).toEqual([500, 500, 200]);
    expect(new Set(seen.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const request of seen) expect(WebhookReceiver.verify(created.secret, request)).toBe(true);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.statusCode, a.errorClass])).toEqual([
      [3, 'delivered', 200, null],
      [2, 'failed', 500, 'http_status'],
      [1, 'failed', 500, 'http_status'],
    ]);
    expect(attempts.every((a) => a.deliveryStatus === 'delivered' && typeof a.durationMs === 'number')).toBe(true);
  });

  it('dead-letters a delivery to a dead receiver after the configured attempts', async () => {
    const dead = new WebhookReceiver();
    const deadUrl = `${await dead.start('127.0.0.2')}/gone`;
    await dead.stop();
    const tenant = await api.newTenant();
    const created = await api.request<IssuedWebhookView>('POST', base(tenant.id), { body: { url: deadUrl, events: ['key.invalid'] } });
    await api.request('POST', `${base(tenant.id)}/${created.body.id}/test`);

    const attempts = await settledLog(tenant.id, created.body.id, 3);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.errorClass, a.deliveryStatus])).toEqual([
      [3, 'failed', 'connection', 'failed'],
      [2, 'failed', 'connection', 'failed'],
      [1, 'failed', 'connection', 'failed'],
    ]);
  });

  it('refuses private, loopback, link-local and credential-carrying URLs at save time with 400 EGRESS_REFUSED', async () => {
    const tenant = await api.newTenant();
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://127.0.0.1:8080/hook',
      'http://2130706433/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://10.0.0.8/hook',
      'http://0.0.0.0/hook',
      'http://user:s3cr3t@example.com/hook',
      'ftp://example.com/hook',
    ]) {
      const res = await api.request<ApiErrorBody>('POST', base(tenant.id), { body: { url, events: ['key.invalid'] } });
      expect([url, res.status, res.body.error.code]).toEqual([url, 400, 'EGRESS_REFUSED']);
      expect(res.text).not.toContain('s3cr3t');
    }
    expect((await api.request<{ items: unknown[] }>('GET', base(tenant.id))).body.items).toEqual([]);
    const created = await endpoint(tenant.id, '/patched');
    const patched = await api.request<ApiErrorBody>('PATCH', `${base(tenant.id)}/${created.id}`, { body: { url: 'http://192.168.0.1/x' } });
    expect([patched.status, patched.body.error.code]).toEqual([400, 'EGRESS_REFUSED']);
  });

  it('refuses at connect time a host name that resolves to loopback outside the allow-list: nothing is sent', async () => {
    const tenant = await api.newTenant();
    const url = bystander.url('/rebound').replace('127.0.0.1', 'localhost');
    const created = await api.request<IssuedWebhookView>('POST', base(tenant.id), { body: { url, events: ['key.invalid'] } });
    expect(created.status).toBe(201);
    await api.request('POST', `${base(tenant.id)}/${created.body.id}/test`);

    const [attempt] = await settledLog(tenant.id, created.body.id, 1);
    expect(attempt).toMatchObject({ outcome: 'failed', errorClass: 'EGRESS_REFUSED', deliveryStatus: 'failed', statusCode: null });
    expect(bystander.received).toEqual([]);
  });

  it('delivers backfill.failed (NO_API_KEY), backfill.succeeded and key.invalid to the right tenant only', async () => {
    const owner = await api.newTenant();
    const other = await api.newTenant();
    const ownHook = await endpoint(owner.id, '/owner');
    await endpoint(other.id, '/other');
    const onlyInvalid = await endpoint(owner.id, '/owner-keys', ['key.invalid']);

    // no key stored: the backfill fails NO_API_KEY before fetching anything
    const workspace = await api.newWorkspace(owner.id);
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(3)), 'json');
    const failedJob = (await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} })).body.jobId;
    await api.waitForBackfill(failedJob);
    const [failed] = await eventually('backfill.failed', () => (receiver.to('/owner').length ? receiver.to('/owner') : null));
    expect(JSON.parse(failed.body)).toEqual({
      type: 'backfill.failed',
      timestamp: expect.any(String),
      data: expect.objectContaining({
        backfillId: failedJob,
        workspaceId: workspace.id,
        status: 'failed',
        failure: expect.objectContaining({ code: 'NO_API_KEY' }),
      }),
    });
    expect(WebhookReceiver.verify(ownHook.secret, failed)).toBe(true);

    // with a working key it succeeds
    expect((await api.request('PUT', `/v1/tenants/${owner.id}/settings/OPENAI_API_KEY`, { body: { value: key } })).status).toBe(200);
    const okJob = (await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: { fromStart: true } })).body.jobId;
    expect((await api.waitForBackfill(okJob)).status).toBe('succeeded');
    const succeeded = await eventually('backfill.succeeded', () => receiver.to('/owner').find((r) => r.body.includes('backfill.succeeded')));
    expect(payload(succeeded.body).data).toMatchObject({
      backfillId: okJob,
      status: 'succeeded',
      failure: null,
      counters: expect.objectContaining({ recordsProcessed: 3 }),
    });

    // a stored key the provider refuses: key.invalid once, however often it is validated again
    simulator.setValidKeys('openai', []);
    expect((await api.request<{ status: string }>('POST', `/v1/tenants/${owner.id}/settings/OPENAI_API_KEY/validate`)).body.status).toBe('invalid');
    const invalid = await eventually('key.invalid', () => receiver.to('/owner-keys')[0]);
    expect(payload(invalid.body).data).toEqual({ settingKey: 'OPENAI_API_KEY', provider: 'openai', reason: 'validation' });
    expect(WebhookReceiver.verify(onlyInvalid.secret, invalid)).toBe(true);
    await api.request('POST', `/v1/tenants/${owner.id}/settings/OPENAI_API_KEY/validate`);
    const events = await api.app.get(PrismaService).webhookEvent.findMany({ where: { tenantId: owner.id }, orderBy: { createdAt: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['backfill.failed', 'backfill.succeeded', 'key.invalid']);
    await eventually('all owner deliveries', () => receiver.to('/owner').length === 3);
    expect(
      receiver
        .to('/owner')
        .map((r) => payload(r.body).type)
        .sort(),
    ).toEqual(['backfill.failed', 'backfill.succeeded', 'key.invalid']);

    // the other tenant's endpoint got nothing, and nothing carried the key
    expect(receiver.to('/other')).toEqual([]);
    expect(await api.app.get(PrismaService).webhookDelivery.count({ where: { tenantId: other.id } })).toBe(0);
    for (const request of receiver.received) expect(request.body).not.toContain(key);
    simulator.setValidKeys('openai', [key]);
  });

  it('announces budget.threshold at 80% and 100% once per period, signed, to the tenant whose budget it is', async () => {
    const tenant = await api.newTenant();
    const hook = await endpoint(tenant.id, '/budget', ['budget.threshold']);
    await endpoint(tenant.id, '/budget-not-subscribed', ['backfill.failed']);
    expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } })).status).toBe(200);
    // an alert budget of one token: the first page passes both thresholds, later pages pass none again
    expect((await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitTokens: 1, mode: 'alert' } })).status).toBe(200);
    const workspace = await api.newWorkspace(tenant.id);
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(12)), 'json');
    for (const fromStart of [false, true]) {
      const job = (await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: { fromStart } })).body.jobId;
      expect((await api.waitForBackfill(job)).status).toBe('succeeded');
    }

    const delivered = await eventually('both thresholds', () => (receiver.to('/budget').length >= 2 ? receiver.to('/budget') : null));
    const period = new Date().toISOString().slice(0, 7);
    expect(delivered.map((r) => payload(r.body).data).sort((a, b) => Number(a.thresholdPercent) - Number(b.thresholdPercent))).toEqual([
      expect.objectContaining({ period, thresholdPercent: 80, mode: 'alert', monthlyLimitTokens: 1 }),
      expect.objectContaining({ period, thresholdPercent: 100, mode: 'alert', monthlyLimitTokens: 1 }),
    ]);
    for (const request of delivered) expect(WebhookReceiver.verify(hook.secret, request)).toBe(true);
    // once per period: three pages over two backfills made exactly two events, and nothing for the other endpoint
    const events = await api.app.get(PrismaService).webhookEvent.findMany({ where: { tenantId: tenant.id, type: 'budget.threshold' } });
    expect(events).toHaveLength(2);
    expect(receiver.to('/budget-not-subscribed')).toEqual([]);
  });

  it('holds a tenant to WEBHOOK_MAX_ENDPOINTS, also when creates race; deleting one makes room', async () => {
    const tenant = await api.newTenant();
    const create = () => api.request<IssuedWebhookView>('POST', base(tenant.id), { body: { url: receiver.url('/limit'), events: ['key.invalid'] } });
    const answers = await Promise.all(Array.from({ length: 7 }, create));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 201, 409, 409, 409]);
    const refused = answers.find((a) => a.status === 409)!.body as unknown as { error: { code: string; message: string } };
    expect(refused.error.code).toBe('WEBHOOK_ENDPOINT_LIMIT');
    expect(refused.error.message).toMatch(/at most 4/);
    expect(await api.app.get(PrismaService).webhookEndpoint.count({ where: { tenantId: tenant.id } })).toBe(4);
    // another tenant's count is its own
    expect((await endpoint((await api.newTenant()).id, '/limit-other')).id).toEqual(expect.any(String));

    const first = answers.find((a) => a.status === 201)!.body;
    expect((await api.request('DELETE', `${base(tenant.id)}/${first.id}`)).status).toBe(204);
    expect((await create()).status).toBe(201);
    expect((await create()).status).toBe(409);
  });

  it('updates, disables, rotates and deletes an endpoint; another tenant cannot see it', async () => {
    const tenant = await api.newTenant();
    const stranger = await api.newTenant();
    const strangerToken = await api.newTenantToken(stranger.id);
    const created = await endpoint(tenant.id, '/lifecycle');

    const seen = await api.request<ApiErrorBody>('GET', `${base(tenant.id)}/${created.id}`, { token: strangerToken });
    expect(seen.status).toBe(404);
    const viaOwnTenant = await api.request<ApiErrorBody>('GET', `${base(stranger.id)}/${created.id}`, { token: strangerToken });
    expect([viaOwnTenant.status, viaOwnTenant.body.error.code]).toEqual([404, 'WEBHOOK_NOT_FOUND']);

    const patched = await api.request<{ enabled: boolean; description: string }>('PATCH', `${base(tenant.id)}/${created.id}`, {
      body: { enabled: false, description: 'ops' },
    });
    expect(patched.body).toMatchObject({ enabled: false, description: 'ops' });
    const rotated = await api.request<IssuedWebhookView>('POST', `${base(tenant.id)}/${created.id}/rotate-secret`);
    expect(rotated.status).toBe(201);
    expect(rotated.body.secret).not.toBe(created.secret);
    expect(rotated.body.secretRotatedAt).toEqual(expect.any(String));

    // a test ping reaches a disabled endpoint, signed with the new secret only
    await api.request('PATCH', `${base(tenant.id)}/${created.id}`, { body: { enabled: true } });
    await api.request('POST', `${base(tenant.id)}/${created.id}/test`);
    const [ping] = await eventually('the ping', () => (receiver.to('/lifecycle').length ? receiver.to('/lifecycle') : null));
    expect(WebhookReceiver.verify(rotated.body.secret, ping)).toBe(true);
    expect(WebhookReceiver.verify(created.secret, ping)).toBe(false);

    expect((await api.request('DELETE', `${base(tenant.id)}/${created.id}`)).status).toBe(204);
    expect((await api.request('GET', `${base(tenant.id)}/${created.id}`)).status).toBe(404);
    expect((await api.request('DELETE', `${base(tenant.id)}/${created.id}`)).status).toBe(404);
  });
});

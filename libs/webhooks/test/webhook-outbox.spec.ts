import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { BackfillModule, BackfillRepository } from '#libs/backfill';
import { ByokKeyStore, KeyCipher, KeyResolver } from '#libs/byok';
import { BackfillStatus, PrismaService, TransactionService } from '#libs/database';
import { KeyValidationService, TenantLlmModule } from '#libs/tenant-llm';
import { MediumContext, randomMasterKey } from '#libs/testing';
import { WebhookPublisher, WebhookSecretRotation, WebhookService, webhookSecretContext, WebhooksModule } from '#libs/webhooks';
// not exported by the lib: the dispatcher's steps, driven one by one as a crash would leave them
import { WebhookOutboxRepository } from '../src/webhook-outbox.repository.js';
import { WebhookEndpointRepository, sealedSecretOf } from '../src/webhook-endpoint.repository.js';

/** The outbox: events commit with what they announce, and dispatch makes each delivery once, for its tenant only. */
describe('webhook outbox (medium)', () => {
  let ctx: MediumContext;
  let prisma: PrismaService;
  let webhooks: WebhookService;
  let outbox: WebhookOutboxRepository;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [WebhooksModule, BackfillModule, TenantLlmModule] });
    prisma = ctx.prisma;
    webhooks = ctx.get(WebhookService);
    outbox = ctx.get(WebhookOutboxRepository);
  });
  afterAll(() => ctx.close());

  const endpoint = (tenantId: string, events: string[], enabled = true) =>
    webhooks.create(tenantId, { url: 'https://hooks.example.test/outbox', events: events as never, enabled });
  const eventsOf = (tenantId: string) => prisma.webhookEvent.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } });

  it('writes an event only when the transaction that publishes it commits', async () => {
    const tenant = await ctx.newTenant();
    const publisher = ctx.get(WebhookPublisher);
    await expect(
      ctx.get(TransactionService).run(async (tx) => {
        await publisher.publish(tenant.id, 'budget.threshold', { percent: 80 }, tx);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await eventsOf(tenant.id)).toEqual([]);

    await ctx.get(TransactionService).run((tx) => publisher.publish(tenant.id, 'budget.threshold', { percent: 80 }, tx));
    expect((await eventsOf(tenant.id)).map((e) => [e.type, e.data, e.dispatchedAt])).toEqual([['budget.threshold', { percent: 80 }, null]]);
  });

  it("announces a backfill's end in the transaction that ends it, once, and not a cancellation", async () => {
    const tenant = await ctx.newTenant();
    const backfills = ctx.get(BackfillRepository);
    const [done, failed, cancelled] = await Promise.all(
      [0, 1, 2].map(async () => (await backfills.createQueued(tenant.id, (await ctx.newWorkspace(tenant.id)).id, 'all'))!),
    );
    expect(await backfills.finish(tenant.id, done.id, BackfillStatus.succeeded)).toBe(true);
    expect(await backfills.finish(tenant.id, done.id, BackfillStatus.failed, { code: 'WORKER_LOST', message: 'late' })).toBe(false);
    expect(await backfills.finish(tenant.id, failed.id, BackfillStatus.failed, { code: 'NO_API_KEY', message: 'No key' })).toBe(true);
    expect(await backfills.finish(tenant.id, cancelled.id, BackfillStatus.cancelled)).toBe(true);

    const events = await eventsOf(tenant.id);
    expect(events.map((e) => [e.type, (e.data as { backfillId: string }).backfillId])).toEqual([
      ['backfill.succeeded', done.id],
      ['backfill.failed', failed.id],
    ]);
    expect(events[1].data).toMatchObject({ status: 'failed', failure: { code: 'NO_API_KEY', message: 'No key' }, workspaceId: failed.workspaceId });
  });

  it('announces a stored key the provider refused mid-job as key.invalid, once per change, never with the key', async () => {
    const tenant = await ctx.newTenant();
    const key = `sk-outbox-${randomBytes(16).toString('hex')}`;
    await ctx.get(ByokKeyStore).put(tenant.id, 'OPENAI_API_KEY', key);
    const resolved = await ctx.get(KeyResolver).resolve({ tenantId: tenant.id, provider: 'openai' });
    const validation = ctx.get(KeyValidationService);

    await validation.markRefused(tenant.id, resolved);
    await validation.markRefused(tenant.id, resolved);

    const events = await eventsOf(tenant.id);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['key.invalid', { settingKey: 'OPENAI_API_KEY', provider: 'openai', reason: 'refused_by_provider' }],
    ]);
    expect(JSON.stringify(events)).not.toContain(key.slice(3, 20));
  });

  it("dispatches each event to its tenant's enabled, subscribed endpoints only, once however often it runs, and leaves the queueing to a later pass", async () => {
    const tenant = await ctx.newTenant();
    const other = await ctx.newTenant();
    const subscribed = await endpoint(tenant.id, ['backfill.failed', 'key.invalid']);
    await endpoint(tenant.id, ['backfill.succeeded']);
    await endpoint(tenant.id, ['backfill.failed'], false);
    await endpoint(other.id, ['backfill.failed']);
    const ping = await endpoint(tenant.id, ['key.invalid'], false);
    await ctx.get(WebhookPublisher).publish(tenant.id, 'backfill.failed', { backfillId: 'b' });
    await webhooks.sendTest(tenant.id, ping.endpoint.id);

    // two workers' passes at once, then again: SKIP LOCKED and the unique (event, endpoint) keep one each
    await Promise.all([outbox.dispatch(100), outbox.dispatch(100)]);
    await outbox.dispatch(100);

    const deliveries = await prisma.webhookDelivery.findMany({ where: { tenantId: { in: [tenant.id, other.id] } } });
    expect(deliveries.map((d) => [d.endpointId, d.eventType, d.status]).sort()).toEqual(
      [
        [subscribed.endpoint.id, 'backfill.failed', 'pending'],
        [ping.endpoint.id, 'webhook.test', 'pending'],
      ].sort(),
    );
    expect((await eventsOf(tenant.id)).every((e) => e.dispatchedAt !== null)).toBe(true);
    // a pass that died after dispatching leaves them unqueued: the next pass finds and queues them
    const unqueued = (await outbox.unqueued(1_000)).filter((d) => d.tenantId === tenant.id);
    expect(unqueued.map((d) => d.id).sort()).toEqual(deliveries.map((d) => d.id).sort());
    await outbox.markQueued(unqueued.map((d) => d.id));
    expect((await outbox.unqueued(1_000)).filter((d) => d.tenantId === tenant.id)).toEqual([]);
  });
});

describe(WebhookSecretRotation.name, () => {
  it('re-seals every signing secret under the new master key version, still bound to its tenant and endpoint', async () => {
    const [v1, v2] = [randomMasterKey(), randomMasterKey()];
    const fingerprint = randomBytes(32).toString('base64');
    const env = (keys: string, active: string) => ({ BYOK_MASTER_KEYS: keys, BYOK_ACTIVE_KEY_VERSION: active, BYOK_FINGERPRINT_KEY: fingerprint });
    const before = await MediumContext.create({ imports: [WebhooksModule], env: env(`v1:${v1}`, 'v1') });
    const after = await MediumContext.create({ imports: [WebhooksModule], database: before.database, env: env(`v1:${v1},v2:${v2}`, 'v2') });
    try {
      const tenant = await before.newTenant();
      const created = await before.get(WebhookService).create(tenant.id, { url: 'https://hooks.example.test/rotate', events: ['key.invalid'] });

      await expect(after.get(WebhookSecretRotation).rotateAll(1)).resolves.toEqual({ activeVersion: 'v2', rotated: 1, skipped: 0, failed: 0 });
      await expect(after.get(WebhookSecretRotation).rotateAll(1)).resolves.toEqual({ activeVersion: 'v2', rotated: 0, skipped: 0, failed: 0 });

      const row = (await after.get(WebhookEndpointRepository).findById(tenant.id, created.endpoint.id))!;
      expect(row.secretKeyVersion).toBe('v2');
      const opened = after.get(KeyCipher).decrypt(sealedSecretOf(row), webhookSecretContext(tenant.id, row.id));
      expect(opened === created.secret).toBe(true);
      // bound to its tenant and endpoint: under another endpoint's context it does not open
      expect(() => after.get(KeyCipher).decrypt(sealedSecretOf(row), webhookSecretContext(tenant.id, tenant.id))).toThrow(/cannot be decrypted/);
    } finally {
      await after.close();
      await before.close();
    }
  });
});

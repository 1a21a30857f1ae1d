import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { PrismaService } from '#libs/database';
import { eventually } from '#libs/testing';
import { WebhookPublisher } from '#libs/webhooks';
import type { deliveryLogView, IssuedWebhookView } from '../src/webhooks/webhooks.dto.js';
import { ApiHarness } from './api-harness.js';

type DeliveryLog = z.output<typeof deliveryLogView>;

type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, held: http.ServerResponse[]) => void;

/** A receiver that misbehaves by path: each request is recorded by path before it is (mis)handled. */
class HostileReceiver {
  readonly hits = new Map<string, number>();
  private readonly server: http.Server;
  private readonly held: http.ServerResponse[] = [];
  constructor(
    behaviours: Record<string, Behaviour>,
    private readonly fallback: Behaviour = (_req, res) => res.writeHead(200).end(),
  ) {
    this.server = http.createServer((req, res) => {
      const path = req.url ?? '/';
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      req.resume();
      (behaviours[path] ?? this.fallback)(req, res, this.held);
    });
  }
  async start(host: string): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }
  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }
  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * Webhook receivers as an unlucky operator meets them (and a hostile tenant builds them): they hang,
 * redirect to a private address, close the connection, stream an endless body, answer after the
 * deadline; endpoints disabled or deleted while their deliveries wait. Every delivery still ends,
 * nothing follows a redirect, nothing is sent after an endpoint is gone.
 */
describe('Webhook deliveries to hostile receivers (e2e, in-process worker)', () => {
  // the bystander stands for an internal service: on 127.0.0.1, outside the allow-list
  const bystander = new HostileReceiver({});
  let bystanderUrl: string;
  /** Per path, what the receiver does before it answers 503 (the paths under /change-then-503/). */
  const beforeAnswer = new Map<string, () => Promise<void>>();
  const receiver = new HostileReceiver(
    {
      '/hang': (_req, res, held) => held.push(res),
      '/slow-head': (_req, res, held) => {
        held.push(res);
        setTimeout(() => !res.destroyed && res.writeHead(200).end(), 1_500);
      },
      '/redirect': (_req, res) => res.writeHead(307, { location: `${bystanderUrl}/internal` }).end(),
      '/reset': (req) => req.socket.destroy(),
      '/endless': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      },
    },
    (req, res) => {
      const change = beforeAnswer.get(req.url ?? '');
      if (!change) return void res.writeHead(200).end();
      void change().finally(() => res.writeHead(503).end());
    },
  );
  let receiverUrl: string;
  let api: ApiHarness;

  beforeAll(async () => {
    bystanderUrl = await bystander.start('127.0.0.1');
    receiverUrl = await receiver.start('127.0.0.3');
    api = await ApiHarness.start(
      {
        EGRESS_ALLOW_HTTP: 'true',
        EGRESS_ALLOWED_CIDRS: '127.0.0.3/32',
        WEBHOOK_MAX_ATTEMPTS: '2',
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_TIMEOUT_MS: '500',
        WEBHOOK_DISPATCH_INTERVAL_MS: '100',
      },
      { worker: true },
    );
  });
  afterAll(async () => {
    await api.close();
    await receiver.stop();
    await bystander.stop();
  });

  const base = (tenantId: string) => `/v1/tenants/${tenantId}/webhooks`;
  async function endpoint(tenantId: string, path: string) {
    const res = await api.request<IssuedWebhookView>('POST', base(tenantId), {
      body: { url: `${receiverUrl}${path}`, events: ['backfill.succeeded'] },
    });
    expect(res.status).toBe(201);
    return res.body;
  }
  const log = async (tenantId: string, endpointId: string) =>
    (await api.request<DeliveryLog>('GET', `${base(tenantId)}/${endpointId}/deliveries`)).body.items;
  const settled = (tenantId: string, endpointId: string, attempts: number) =>
    eventually(`${attempts} settled attempts`, async () => {
      const items = await log(tenantId, endpointId);
      return items.length === attempts && items[0].deliveryStatus !== 'pending' ? items : null;
    });

  it.each([
    ['/hang', 'timeout'],
    ['/slow-head', 'timeout'],
    ['/reset', 'connection'],
  ])('dead-letters a delivery to the misbehaving receiver at %s after the configured attempts (%s)', async (path, errorClass) => {
    const tenant = await api.newTenant();
    const hook = await endpoint(tenant.id, path);
    await api.request('POST', `${base(tenant.id)}/${hook.id}/test`);
    const attempts = await settled(tenant.id, hook.id, 2);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.statusCode, a.errorClass, a.deliveryStatus])).toEqual([
      [2, 'failed', null, errorClass, 'failed'],
      [1, 'failed', null, errorClass, 'failed'],
    ]);
  });

  it('does not follow a redirect to a private address: a 3xx is a failed attempt and the target gets nothing', async () => {
    const tenant = await api.newTenant();
    const hook = await endpoint(tenant.id, '/redirect');
    await api.request('POST', `${base(tenant.id)}/${hook.id}/test`);
    const attempts = await settled(tenant.id, hook.id, 2);
    expect(attempts.map((a) => [a.outcome, a.statusCode, a.errorClass])).toEqual([
      ['failed', 307, 'http_status'],
      ['failed', 307, 'http_status'],
    ]);
    expect(receiver.count('/redirect')).toBe(2);
    expect(bystander.count('/internal')).toBe(0);
  });

  it('delivers to a receiver answering 200 with an endless body, without reading it', async () => {
    const tenant = await api.newTenant();
    const hook = await endpoint(tenant.id, '/endless');
    await api.request('POST', `${base(tenant.id)}/${hook.id}/test`);
    const attempts = await settled(tenant.id, hook.id, 1);
    expect(attempts.map((a) => [a.outcome, a.statusCode, a.deliveryStatus])).toEqual([['delivered', 200, 'delivered']]);
  });

  it.each(['disabled', 'deleted'] as const)('makes no attempt after its endpoint was %s while the delivery waited for a retry', async (change) => {
    const tenant = await api.newTenant();
    const path = `/change-then-503/${change}`;
    const hook = await endpoint(tenant.id, path);
    // the receiver itself changes the endpoint before it answers 503: the retry comes strictly after
    beforeAnswer.set(path, async () => {
      const res =
        change === 'disabled'
          ? await api.request('PATCH', `${base(tenant.id)}/${hook.id}`, { body: { enabled: false } })
          : await api.request('DELETE', `${base(tenant.id)}/${hook.id}`);
      expect(res.status).toBe(change === 'disabled' ? 200 : 204);
    });
    await api.worker!.get(WebhookPublisher).publish(tenant.id, 'backfill.succeeded', { backfillId: change });
    const prisma = api.app.get(PrismaService);
    if (change === 'disabled') {
      const attempts = await settled(tenant.id, hook.id, 1);
      expect(attempts.map((a) => [a.attempt, a.outcome, a.statusCode, a.deliveryStatus])).toEqual([[1, 'failed', 503, 'failed']]);
      const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: hook.id } });
      expect([delivery.status, delivery.lastError]).toEqual(['failed', 'ENDPOINT_DISABLED']);
    } else {
      await eventually('the deleted endpoint tried once', () => receiver.count(path) === 1);
      await eventually('its deliveries gone with it', async () => (await prisma.webhookDelivery.count({ where: { tenantId: tenant.id } })) === 0);
    }
    // a second event of the tenant still reaches nothing of the changed endpoint
    await api.worker!.get(WebhookPublisher).publish(tenant.id, 'backfill.succeeded', { backfillId: `${change}-2` });
    await eventually(
      'the event dispatched',
      async () => (await prisma.webhookEvent.count({ where: { tenantId: tenant.id, dispatchedAt: null } })) === 0,
    );
    expect(receiver.count(path)).toBe(1);
  });
});

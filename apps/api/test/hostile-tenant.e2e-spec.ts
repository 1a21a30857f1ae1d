import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { emailRecords } from '#libs/testing';
import type { IssuedWebhookView } from '../src/webhooks/webhooks.dto.js';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';

/**
 * Issue 16's routes (usage, budget, webhooks) as a hostile tenant calls them: inputs that pass the
 * DTO's first look but break later, every spelling of a private address, other tenants' ids. Each
 * answer must be a clear 4xx, never a 5xx, and nothing half-written.
 */
describe('Usage, budgets and webhooks against a hostile tenant (e2e)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    // http allowed so that the scheme is not what refuses; no allow-listed range
    api = await ApiHarness.start({ EGRESS_ALLOW_HTTP: 'true' });
  });
  afterAll(async () => {
    await api.close();
  });

  const hooks = (tenantId: string) => `/v1/tenants/${tenantId}/webhooks`;
  const create = (tenantId: string, url: string) =>
    api.request<IssuedWebhookView & ApiErrorBody>('POST', hooks(tenantId), { body: { url, events: ['backfill.succeeded'] } });

  describe('webhook URLs', () => {
    it('refuses every spelling of loopback, private, link-local and unspecified, at creation and on PATCH', async () => {
      const tenant = await api.newTenant();
      const spellings = [
        'HTTPS://127.0.0.1/x', // mixed case scheme
        'https://0x7f000001/x',
        'https://017700000001/x',
        'https://127.1/x',
        'https://0x7f.0.0.1/x',
        'https://①②⑦.0.0.1/x', // IDNA maps these digits to 127.0.0.1
        'https://１２７.０.０.１/x', // fullwidth
        'https:\\\\127.0.0.1\\x', // backslashes are slashes for special schemes
        'https://good.example.com@127.0.0.1/x', // userinfo trick
        'https://[::]/x',
        'https://[::1]/x',
        'https://[0:0:0:0:0:ffff:7f00:1]/x',
        'https://[::ffff:169.254.169.254]/x',
        'https://[fe80::1%25eth0]/x', // a zone id: not a URL at all for WHATWG
        'https://169.254.169.254./latest/meta-data',
        'https://0.1.2.3/x',
        'https://[fec0::1]/x', // deprecated site-local
        'https://[2002:7f00:1::]/x', // 6to4 of 127.0.0.1
        'https://[::ffff:0:7f00:1]/x', // SIIT (RFC 6145) of 127.0.0.1
        'https://[::7f00:1]/x', // IPv4-compatible (RFC 4291 2.5.5.1, deprecated) of 127.0.0.1
        'https://[::a9fe:a9fe]/x', // IPv4-compatible of 169.254.169.254
      ];
      const accepted: string[] = [];
      for (const url of spellings) {
        const res = await create(tenant.id, url);
        if (res.status !== 400) accepted.push(`${url} -> ${res.status}`);
        else expect(res.body.error.code).toMatch(/^(EGRESS_REFUSED|VALIDATION_FAILED)$/);
      }
      expect(accepted).toEqual([]);

      const ok = await create(tenant.id, 'https://hooks.example.com/in');
      expect(ok.status).toBe(201);
      for (const url of ['https://10.0.0.1/x', 'https://[::ffff:10.0.0.1]/x', 'https://[::a00:1]/x']) {
        const res = await api.request<ApiErrorBody>('PATCH', `${hooks(tenant.id)}/${ok.body.id}`, { body: { url } });
        expect(res.status).toBe(400);
      }
      const kept = await api.request<{ url: string }>('GET', `${hooks(tenant.id)}/${ok.body.id}`);
      expect(kept.body.url).toBe('https://hooks.example.com/in');
    });

    it('refuses with a 4xx a URL under 2,048 characters that percent-encoding makes longer, at creation and on PATCH', async () => {
      const tenant = await api.newTenant();
      // 1,000 characters as sent; each é is %C3%A9 once normalized: about 6,000 characters stored
      const url = `https://hooks.example.com/${'é'.repeat(1_000)}`;
      expect(url.length).toBeLessThan(2_048);
      expect(new URL(url).href.length).toBeGreaterThan(2_048);

      const created = await create(tenant.id, url);
      expect(created.status).toBe(400);
      expect(created.body.error.code).toBe('EGRESS_REFUSED');

      const ok = await create(tenant.id, 'https://hooks.example.com/in');
      const patched = await api.request<ApiErrorBody>('PATCH', `${hooks(tenant.id)}/${ok.body.id}`, { body: { url } });
      expect(patched.status).toBe(400);
      expect(patched.body.error.code).toBe('EGRESS_REFUSED');
      expect((await api.request<{ items: unknown[] }>('GET', hooks(tenant.id))).body.items).toHaveLength(1);
    });

    it("answers 404 for another tenant's endpoint by id, whatever the verb, and never shows its URL or secret", async () => {
      const owner = await api.newTenant();
      const other = await api.newTenant();
      const mine = await create(owner.id, 'https://owner.example.com/in');
      const otherToken = await api.newTenantToken(other.id);
      const ownerToken = await api.newTenantToken(owner.id);
      const path = `${hooks(other.id)}/${mine.body.id}`;
      const attempts = [
        ['GET', path],
        ['PATCH', path],
        ['DELETE', path],
        ['POST', `${path}/rotate-secret`],
        ['POST', `${path}/test`],
        ['GET', `${path}/deliveries`],
      ] as const;
      for (const [method, target] of attempts) {
        const res = await api.request<ApiErrorBody>(method, target, { token: otherToken, body: method === 'PATCH' ? { enabled: false } : undefined });
        expect([method, target, res.status]).toEqual([method, target, 404]);
        expect(res.text).not.toContain('owner.example.com');
      }
      // and the owner's path with the other tenant's token
      const direct = await api.request('GET', `${hooks(owner.id)}/${mine.body.id}`, { token: otherToken });
      expect([403, 404]).toContain(direct.status);
      const still = await api.request<{ enabled: boolean; secretMasked: string }>('GET', `${hooks(owner.id)}/${mine.body.id}`, { token: ownerToken });
      expect(still.body.enabled).toBe(true);
      expect(still.body.secretMasked).toBe(`whsec_…${mine.body.secret.slice(-4)}`);
      expect(api.responses.filter((body) => body.includes(mine.body.secret))).toHaveLength(1);
    });
  });

  it('never shows a secret to a read-scope token: it may list, not create, rotate, test or change', async () => {
    const tenant = await api.newTenant();
    const hook = await create(tenant.id, 'https://hooks.example.com/in');
    const read = (await api.request<{ token: string }>('POST', `/v1/tenants/${tenant.id}/tokens`, { body: { scope: 'read' } })).body.token;
    const path = `${hooks(tenant.id)}/${hook.body.id}`;
    for (const [method, target, body] of [
      ['POST', hooks(tenant.id), { url: 'https://hooks.example.com/2', events: ['key.invalid'] }],
      ['POST', `${path}/rotate-secret`, undefined],
      ['POST', `${path}/test`, undefined],
      ['PATCH', path, { enabled: false }],
      ['DELETE', path, undefined],
    ] as const) {
      const res = await api.request<ApiErrorBody>(method, target, { token: read, body });
      expect([method, target, res.status, res.body.error.code]).toEqual([method, target, 403, 'TOKEN_READ_ONLY']);
    }
    const listed = await api.request('GET', hooks(tenant.id), { token: read });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(hook.body.secret);
    expect(listed.text).not.toContain('"secret"');
    expect((await api.request<{ items: unknown[] }>('GET', hooks(tenant.id))).body.items).toHaveLength(1);
  });

  describe('usage API', () => {
    it('answers 400, never a 5xx, to dates Postgres cannot hold or that do not exist', async () => {
      const tenant = await api.newTenant();
      const queries = [
        'from=0000-01-01&to=0000-12-31', // year 0: valid ISO 8601 and to Date.parse, out of range for Postgres' date
        'from=2026-02-30&to=2026-03-02',
        'from=2026-13-01&to=2026-12-01',
        'from=2026-11-01T00:00:00Z&to=2026-11-02',
        'from=2026-11-01%2B01:00&to=2026-11-02',
        'from=2026-11-02&to=2026-11-01',
        'from=2024-01-01&to=2026-01-01',
        'from=2026-11-01&from=2026-11-02',
        'groupBy=tenant',
        'groupBy[]=day',
        'limit=100000000',
      ];
      const answers: string[] = [];
      for (const query of queries) {
        const res = await api.request<ApiErrorBody>('GET', `/v1/tenants/${tenant.id}/usage?${query}`);
        answers.push(`${query} -> ${res.status}`);
        if (res.status === 400) expect(res.body.error.code).toBe('VALIDATION_FAILED');
      }
      expect(answers).toEqual(queries.map((query) => `${query} -> 400`));
    });

    it('reads the far ends of the calendar Postgres holds', async () => {
      const tenant = await api.newTenant();
      for (const query of ['from=0001-01-01&to=0001-12-31', 'from=9999-01-01&to=9999-12-31']) {
        const res = await api.request<{ items: unknown[] }>('GET', `/v1/tenants/${tenant.id}/usage?${query}`);
        expect([query, res.status, res.body.items]).toEqual([query, 200, []]);
      }
    });
  });

  describe('estimate', () => {
    const estimate = (workspaceId: string, body: unknown = {}, token?: string) =>
      api.request<{ records: number; calls: number; estimatedInputTokens: number; estimatedCostMicroUsd: number } & ApiErrorBody>(
        'POST',
        `/v1/workspaces/${workspaceId}/backfills/estimate`,
        { body, token },
      );

    it('answers zeros for an empty workspace and for one whose records were all deleted (tombstoned)', async () => {
      const tenant = await api.newTenant();
      const empty = await api.newWorkspace(tenant.id);
      expect((await estimate(empty.id)).body).toMatchObject({ records: 0, calls: 0, estimatedInputTokens: 0, estimatedCostMicroUsd: 0 });

      const emptied = await api.newWorkspace(tenant.id);
      const records = emailRecords(3);
      expect((await api.request('POST', `/v1/workspaces/${emptied.id}/records`, { body: records })).status).toBe(200);
      for (const record of records) {
        const res = await api.request('DELETE', `/v1/workspaces/${emptied.id}/records/${encodeURIComponent(record.externalId)}`);
        expect(res.status).toBeLessThan(300);
      }
      expect((await estimate(emptied.id)).body).toMatchObject({ records: 0, calls: 0, estimatedCostMicroUsd: 0 });
    });

    it("answers 404 for a deleted workspace and for another tenant's, whatever the body", async () => {
      const tenant = await api.newTenant();
      const other = await api.newTenant();
      const workspace = await api.newWorkspace(tenant.id);
      expect((await api.request('DELETE', `/v1/workspaces/${workspace.id}`)).status).toBe(202);
      expect((await estimate(workspace.id)).status).toBe(404);
      const theirs = await api.newWorkspace(other.id);
      const token = await api.newTenantToken(tenant.id);
      for (const body of [{}, { fromStart: true }, { source: 'api' }]) expect((await estimate(theirs.id, body, token)).status).toBe(404);
      for (const body of [{ fromStart: 'yes' }, { source: 'x'.repeat(10_000) }, [], null]) {
        const res = await estimate(workspace.id, body);
        expect([400, 404]).toContain(res.status);
      }
    });
  });

  describe('budgets', () => {
    it('refuses a limit that is more than 0 but rounds to 0 micro-USD, instead of storing a budget of $0', async () => {
      const tenant = await api.newTenant();
      for (const body of [
        { monthlyLimitUsd: 0.0000001, mode: 'hard' },
        { monthlyLimitUsd: 10, mode: 'hard', perJobLimitUsd: 0.0000004 },
      ]) {
        const res = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/budget`, { body });
        expect([body, res.status]).toEqual([body, 400]);
      }
      expect((await api.request('GET', `/v1/tenants/${tenant.id}/budget`)).body).toMatchObject({ budget: null });
    });

    it('refuses junk limits with a 400 and keeps the budget it had', async () => {
      const tenant = await api.newTenant();
      expect((await api.request('PUT', `/v1/tenants/${tenant.id}/budget`, { body: { monthlyLimitUsd: 5, mode: 'hard' } })).status).toBe(200);
      const junk: unknown[] = [
        { monthlyLimitUsd: 0, mode: 'hard' },
        { monthlyLimitUsd: -1, mode: 'hard' },
        { monthlyLimitUsd: '5', mode: 'hard' },
        { monthlyLimitUsd: 1e300, mode: 'hard' },
        { monthlyLimitUsd: 5, monthlyLimitTokens: 5, mode: 'hard' },
        { monthlyLimitTokens: 1.5, mode: 'hard' },
        { monthlyLimitTokens: 2 ** 63, mode: 'hard' },
        { monthlyLimitUsd: 5, mode: 'soft' },
        { monthlyLimitUsd: 5 },
        { mode: 'hard' },
        [],
        null,
        'x',
      ];
      for (const body of junk) {
        const res = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/budget`, { body });
        expect([body, res.status]).toEqual([body, 400]);
      }
      const nan = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/budget`, {
        raw: { data: '{"monthlyLimitUsd": NaN, "mode": "hard"}', contentType: 'application/json' },
      });
      expect(nan.status).toBe(400);
      expect((await api.request('GET', `/v1/tenants/${tenant.id}/budget`)).body).toMatchObject({ budget: { monthlyLimitUsd: 5, mode: 'hard' } });
    });

    it("does not let a tenant read or write another tenant's budget or usage", async () => {
      const owner = await api.newTenant();
      const other = await api.newTenant();
      await api.request('PUT', `/v1/tenants/${owner.id}/budget`, { body: { monthlyLimitUsd: 7, mode: 'alert' } });
      const otherToken = await api.newTenantToken(other.id);
      for (const [method, path] of [
        ['GET', `/v1/tenants/${owner.id}/budget`],
        ['PUT', `/v1/tenants/${owner.id}/budget`],
        ['DELETE', `/v1/tenants/${owner.id}/budget`],
        ['GET', `/v1/tenants/${owner.id}/usage?groupBy=job`],
      ] as const) {
        const res = await api.request(method, path, { token: otherToken, body: method === 'PUT' ? { monthlyLimitUsd: 1, mode: 'hard' } : undefined });
        expect([403, 404]).toContain(res.status);
      }
      expect((await api.request('GET', `/v1/tenants/${owner.id}/budget`)).body).toMatchObject({ budget: { monthlyLimitUsd: 7, mode: 'alert' } });
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { TenantView } from '../src/tenants/tenant.dto.js';
import { type ApiErrorBody, ApiHarness, type Json } from './api-harness.js';

interface TenantPage {
  items: Json<TenantView>[];
  nextCursor: string | null;
}

/** `GET /v1/tenants`: the platform admin's list of every tenant, keyset paginated in subdomain order. */
describe('GET /v1/tenants (e2e)', () => {
  let api: ApiHarness;
  // a prefix of this file's own, so the tenants other set-ups create do not count
  const prefix = `ls${randomBytes(3).toString('hex')}`;
  const subdomains: string[] = [];

  beforeAll(async () => {
    api = await ApiHarness.start({ LOG_LEVEL: 'warn' });
    for (let i = 0; i < 7; i++) {
      const subdomain = `${prefix}-${String(i).padStart(2, '0')}`;
      const res = await api.request('POST', '/v1/tenants', { body: { subdomain, planType: i % 2 ? 'team' : 'free', aiKeyMode: 'byok' } });
      expect(res.status).toBe(201);
      subdomains.push(subdomain);
    }
    // one more that shares the first letters only: the filter is a prefix of the whole subdomain
    await api.request('POST', '/v1/tenants', { body: { subdomain: `${prefix}x`, planType: 'team', aiKeyMode: 'managed' } });
  });
  afterAll(() => api.close());

  async function page(query: string, token?: string | null) {
    return api.request<TenantPage>('GET', `/v1/tenants?${query}`, token === undefined ? {} : { token });
  }

  it('pages through more tenants than the limit, in subdomain order, each once, with the documented fields', async () => {
    const seen: Json<TenantView>[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await page(`subdomain=${prefix}-&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen.map((t) => t.subdomain)).toEqual(subdomains);
    expect(Object.keys(seen[0]).sort()).toEqual(['aiKeyMode', 'createdAt', 'id', 'planType', 'subdomain']);
    expect(seen[1]).toMatchObject({ planType: 'team', aiKeyMode: 'byok', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('filters by subdomain prefix: a whole subdomain matches itself, a shorter prefix every subdomain that starts with it', async () => {
    const exact = await page(`subdomain=${subdomains[3]}`);
    expect(exact.body).toEqual({ items: [expect.objectContaining({ subdomain: subdomains[3] })], nextCursor: null });
    const all = await page(`subdomain=${prefix}&limit=200`);
    expect(all.body.items.map((t) => t.subdomain)).toEqual([...subdomains, `${prefix}x`]);
    expect((await page('subdomain=zz-no-such-tenant')).body).toEqual({ items: [], nextCursor: null });
  });

  it('uses limit 50 by default and refuses a limit outside 1 to 200', async () => {
    // past 50 tenants in this file's database
    for (let i = 0; i < 45; i++) await api.newTenant({ subdomain: `bulk-${String(i).padStart(2, '0')}` });
    const first = await page('');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(50);
    expect(first.body.nextCursor).not.toBeNull();
    const rest = await page(`cursor=${first.body.nextCursor}`);
    const everyone = await page('limit=200');
    expect(everyone.body.nextCursor).toBeNull();
    expect([...first.body.items, ...rest.body.items].map((t) => t.id)).toEqual(everyone.body.items.map((t) => t.id));
    for (const limit of ['0', '201', 'x', '1.5']) {
      const refused = await api.request<ApiErrorBody>('GET', `/v1/tenants?limit=${limit}`);
      expect({ limit, status: refused.status, code: refused.body.error.code }).toEqual({ limit, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it('refuses a cursor it did not hand out, and a subdomain filter that no subdomain could match, with 400', async () => {
    for (const cursor of ['not!base64', Buffer.from('UPPER CASE').toString('base64url'), 'x'.repeat(200), '']) {
      const res = await api.request<ApiErrorBody>('GET', `/v1/tenants?cursor=${encodeURIComponent(cursor)}`);
      expect({ cursor, status: res.status, code: res.body.error.code }).toEqual({ cursor, status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.error.message).toMatch(/^cursor /);
    }
    const res = await api.request<ApiErrorBody>('GET', '/v1/tenants?subdomain=%25');
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'VALIDATION_FAILED', message: 'subdomain must be 1-63 lowercase letters, digits or hyphens' });
  });

  it("answers a tenant's token 403 FORBIDDEN, admin or read scope alike, and no token 401", async () => {
    const tenant = await api.newTenant();
    const adminToken = await api.newTenantToken(tenant.id);
    const readToken = (await api.request<{ token: string }>('POST', `/v1/tenants/${tenant.id}/tokens`, { body: { scope: 'read' } })).body.token;
    for (const token of [adminToken, readToken]) {
      const res = await page('', token);
      expect(res.status).toBe(403);
      expect((res.body as unknown as ApiErrorBody).error.code).toBe('FORBIDDEN');
    }
    expect((await page('', null)).status).toBe(401);
  });
});

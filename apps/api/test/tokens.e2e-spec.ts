import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrismaService } from '#libs/database';
import type { TokenInfo } from '#libs/tenancy';
import { type ApiErrorBody, ApiHarness, type Json, type ListOf } from './api-harness.js';

type Issued = Json<TokenInfo & { token: string }>;
type AuditPage = { items: { action: string; actor: { kind: string; tokenId: string | null; label: string }; details: Record<string, unknown> }[] };

const DAY_MS = 86_400_000;

/**
 * The tenant token lifecycle over HTTP: a name, a scope (admin | read), an expiry and a last-used time;
 * list by prefix, revoke (at once in every API process), rotate; only admin-scope tokens write.
 */
describe('Tenant tokens (e2e)', () => {
  let api: ApiHarness;
  let other: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    // tokens cached for 10 minutes: a revoke seen by the other process can only have come over pub/sub
    api = await ApiHarness.start({ TOKEN_CACHE_TTL_MS: '600000' });
    other = await ApiHarness.start({ ...api.env }, { databaseUrl: api.database.url });
    prisma = api.app.get(PrismaService);
  });
  afterAll(async () => {
    await other?.close();
    await api?.close();
  });

  const create = (tenantId: string, body: unknown, token?: string) => api.request<Issued>('POST', `/v1/tenants/${tenantId}/tokens`, { body, token });
  const list = (tenantId: string, token?: string) => api.request<ListOf<Json<TokenInfo>>>('GET', `/v1/tenants/${tenantId}/tokens`, { token });
  const me = (harness: ApiHarness, token: string) => harness.request<ApiErrorBody>('GET', '/v1/me', { token });

  it('creates a named, scoped token with an expiry; lists it by prefix only, never the secret', async () => {
    const tenant = await api.newTenant();
    const before = Date.now();
    const res = await create(tenant.id, { name: 'CI deploys', scope: 'read', expiresInDays: 7 });
    expect(res.status).toBe(201);
    const issued = res.body;
    expect(issued).toMatchObject({ name: 'CI deploys', scope: 'read', lastUsedAt: null, revokedAt: null });
    expect(issued.token).toMatch(/^tt_[A-Za-z0-9_-]{43}$/);
    expect(issued.prefix).toBe(issued.token.slice(0, 11));
    const expires = Date.parse(issued.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(expires).toBeLessThanOrEqual(Date.now() + 7 * DAY_MS);

    const defaults = await create(tenant.id, undefined);
    expect(defaults.status).toBe(201);
    expect(defaults.body).toMatchObject({ name: 'token', scope: 'admin' });
    expect(Math.round((Date.parse(defaults.body.expiresAt) - Date.parse(defaults.body.createdAt)) / DAY_MS)).toBe(90);

    const listed = await list(tenant.id, defaults.body.token);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((t) => t.id)).toEqual([defaults.body.id, issued.id]);
    expect(listed.text).not.toContain(issued.token);
    expect(listed.text).not.toContain(defaults.body.token);
    expect(Object.keys(listed.body.items[0]).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scope']);
    // only the hash is stored
    const rows = await prisma.tenantToken.findMany({ where: { tenantId: tenant.id } });
    expect(JSON.stringify(rows)).not.toContain(issued.token);
  });

  it.each([
    [{ name: '' }, 'name must not be empty'],
    [{ name: 'x'.repeat(101) }, 'name must be at most 100 characters'],
    [{ name: 'line\nbreak' }, 'name must not contain control characters'],
    [{ scope: 'owner' }, 'scope must be one of admin, read'],
    [{ expiresInDays: 0 }, 'expiresInDays must be at least 1'],
    [{ expiresInDays: 366 }, 'expiresInDays must be at most 365'],
    [{ expiresInDays: 1.5 }, 'expiresInDays must be a whole number of days'],
    [{ expiresInDays: '30' }, 'expiresInDays must be a whole number of days'],
    [{ nope: true }, 'nope'],
  ])('refuses %j with 400 VALIDATION_FAILED', async (body, message) => {
    const tenant = await api.newTenant();
    const res = await api.request<ApiErrorBody>('POST', `/v1/tenants/${tenant.id}/tokens`, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toContain(message);
    expect(await prisma.tenantToken.count({ where: { tenantId: tenant.id } })).toBe(0);
  });

  it('lets a read token read and refuses it every write and token management with 403 TOKEN_READ_ONLY', async () => {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    const reader = (await create(tenant.id, { name: 'auditor', scope: 'read' })).body;
    const admin = (await create(tenant.id, { name: 'ops' })).body;

    for (const path of [
      `/v1/tenants/${tenant.id}`,
      `/v1/tenants/${tenant.id}/settings`,
      `/v1/workspaces/${workspace.id}/backfills`,
      `/v1/tenants/${tenant.id}/audit`,
    ]) {
      expect([path, (await api.request('GET', path, { token: reader.token })).status]).toEqual([path, 200]);
    }
    const writes: [string, string, unknown][] = [
      ['PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { value: 'sk-read-token-must-not-write-1234' }],
      ['DELETE', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, undefined],
      ['POST', `/v1/tenants/${tenant.id}/tokens`, {}],
      ['DELETE', `/v1/tenants/${tenant.id}/tokens/${admin.id}`, undefined],
      ['POST', `/v1/tenants/${tenant.id}/tokens/${admin.id}/rotate`, {}],
      ['POST', `/v1/workspaces/${workspace.id}/backfills`, {}],
      ['POST', `/v1/tenants/${tenant.id}/workspaces`, { name: 'nope' }],
    ];
    for (const [method, path, body] of writes) {
      const res = await api.request<ApiErrorBody>(method, path, { token: reader.token, body });
      expect([method, path, res.status, res.body.error.code]).toEqual([method, path, 403, 'TOKEN_READ_ONLY']);
    }
    const listing = await list(tenant.id, reader.token);
    expect([listing.status, (listing.body as unknown as ApiErrorBody).error.code]).toEqual([403, 'TOKEN_READ_ONLY']);
    // nothing was written: the admin token is live, no setting, still two tokens
    expect((await me(api, admin.token)).status).toBe(200);
    expect(await prisma.tenantSetting.count({ where: { tenantId: tenant.id } })).toBe(0);
    expect(await prisma.tenantToken.count({ where: { tenantId: tenant.id } })).toBe(2);

    const who = await api.request<{ token: { id: string; name: string; scope: string } }>('GET', '/v1/me', { token: reader.token });
    expect(who.body.token).toEqual({ id: reader.id, name: 'auditor', scope: 'read' });
  });

  it('revokes a token at once in this process and in another that had it cached', async () => {
    const tenant = await api.newTenant();
    const victim = (await create(tenant.id, { name: 'laptop' })).body;
    expect((await me(api, victim.token)).status).toBe(200);
    expect((await me(other, victim.token)).status).toBe(200);

    const revoked = await api.request('DELETE', `/v1/tenants/${tenant.id}/tokens/${victim.id}`);
    expect(revoked.status).toBe(204);
    expect((await me(api, victim.token)).status).toBe(401);
    // the other process cached the token for 10 minutes: only the pub/sub message can drop it
    await expectEventually(async () => (await me(other, victim.token)).status, 401);
    // again: not an error, and the first revocation time is kept
    const revokedAt = (await prisma.tenantToken.findUniqueOrThrow({ where: { id: victim.id } })).revokedAt;
    expect((await api.request('DELETE', `/v1/tenants/${tenant.id}/tokens/${victim.id}`)).status).toBe(204);
    expect((await prisma.tenantToken.findUniqueOrThrow({ where: { id: victim.id } })).revokedAt).toEqual(revokedAt);
    const listed = await list(tenant.id);
    expect(listed.body.items[0]).toMatchObject({ id: victim.id, revokedAt: revokedAt!.toISOString() });
  });

  it('a token may revoke itself; an unknown or foreign token id is 404 TOKEN_NOT_FOUND', async () => {
    const tenant = await api.newTenant();
    const stranger = await api.newTenant();
    const self = (await create(tenant.id, { name: 'self' })).body;
    const foreign = (await create(stranger.id, { name: 'foreign' })).body;

    const cross = await api.request<ApiErrorBody>('DELETE', `/v1/tenants/${tenant.id}/tokens/${foreign.id}`, { token: self.token });
    expect([cross.status, cross.body.error.code]).toEqual([404, 'TOKEN_NOT_FOUND']);
    // another tenant's path answers as if the tenant did not exist
    const otherTenant = await api.request<ApiErrorBody>('DELETE', `/v1/tenants/${stranger.id}/tokens/${foreign.id}`, { token: self.token });
    expect([otherTenant.status, otherTenant.body.error.code]).toEqual([404, 'TENANT_NOT_FOUND']);
    expect((await me(api, foreign.token)).status).toBe(200);

    expect((await api.request('DELETE', `/v1/tenants/${tenant.id}/tokens/${self.id}`, { token: self.token })).status).toBe(204);
    expect((await me(api, self.token)).status).toBe(401);
  });

  it('rotates: the old token stops at once, the new one has its name and scope; a revoked token cannot be rotated', async () => {
    const tenant = await api.newTenant();
    const admin = (await create(tenant.id, { name: 'admin' })).body;
    const old = (await create(tenant.id, { name: 'nightly export', scope: 'read', expiresInDays: 30 })).body;
    expect((await me(other, old.token)).status).toBe(200);

    const rotated = await api.request<Issued>('POST', `/v1/tenants/${tenant.id}/tokens/${old.id}/rotate`, { token: admin.token });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ name: 'nightly export', scope: 'read', revokedAt: null });
    expect(rotated.body.id).not.toBe(old.id);
    expect(Math.round((Date.parse(rotated.body.expiresAt) - Date.parse(rotated.body.createdAt)) / DAY_MS)).toBe(30);
    expect((await me(api, old.token)).status).toBe(401);
    await expectEventually(async () => (await me(other, old.token)).status, 401);
    expect((await me(other, rotated.body.token)).status).toBe(200);

    const again = await api.request<ApiErrorBody>('POST', `/v1/tenants/${tenant.id}/tokens/${old.id}/rotate`, { token: admin.token });
    expect([again.status, again.body.error.code]).toEqual([409, 'TOKEN_REVOKED']);
    const longer = await api.request<Issued>('POST', `/v1/tenants/${tenant.id}/tokens/${rotated.body.id}/rotate`, { body: { expiresInDays: 2 } });
    expect(Math.round((Date.parse(longer.body.expiresAt) - Date.parse(longer.body.createdAt)) / DAY_MS)).toBe(2);
  });

  it('refuses an expired token 401, and records when a token was last used', async () => {
    const tenant = await api.newTenant();
    const token = (await create(tenant.id, { name: 'short', expiresInDays: 1 })).body;
    expect((await me(api, token.token)).status).toBe(200);
    await expectEventually(async () => (await prisma.tenantToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt !== null, true);
    const listed = await list(tenant.id);
    expect(listed.body.items[0].lastUsedAt).not.toBeNull();

    const expiring = (await create(tenant.id, { name: 'expiring' })).body;
    await prisma.tenantToken.update({
      where: { id: expiring.id },
      data: { createdAt: new Date(Date.now() - 2 * DAY_MS), expiresAt: new Date(Date.now() - 1000) },
    });
    const res = await me(api, expiring.token);
    expect([res.status, res.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('audits create, revoke and rotate with the acting token named', async () => {
    const tenant = await api.newTenant();
    const admin = (await create(tenant.id, { name: 'security team' })).body;
    const made = (await create(tenant.id, { name: 'temp' }, admin.token)).body;
    const rotated = (await api.request<Issued>('POST', `/v1/tenants/${tenant.id}/tokens/${made.id}/rotate`, { token: admin.token })).body;
    await api.request('DELETE', `/v1/tenants/${tenant.id}/tokens/${rotated.id}`, { token: admin.token });

    const audit = await api.request<AuditPage>('GET', `/v1/tenants/${tenant.id}/audit?action=token.create`);
    const events = (await api.request<AuditPage>('GET', `/v1/tenants/${tenant.id}/audit`)).body.items.filter((e) => e.action.startsWith('token.'));
    expect(events.map((e) => [e.action, e.actor.label])).toEqual([
      ['token.revoke', 'token "security team"'],
      ['token.rotate', 'token "security team"'],
      ['token.create', 'token "security team"'],
      ['token.create', 'platform admin'],
    ]);
    expect(events[0].details).toMatchObject({ tokenId: rotated.id, name: 'temp', scope: 'admin' });
    expect(events[1].details).toMatchObject({ tokenId: rotated.id, replacedTokenId: made.id });
    expect(events[0].actor.tokenId).toBe(admin.id);
    expect(audit.body.items).toHaveLength(2);
    for (const secret of [admin.token, made.token, rotated.token]) expect(JSON.stringify(events)).not.toContain(secret);
  });
});

/** Polls `read` until it answers `expected` (at most 5 s), then asserts it does. */
async function expectEventually<T>(read: () => Promise<T>, expected: T): Promise<void> {
  let value = await read();
  for (let i = 0; i < 100 && value !== expected; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  expect(value).toBe(expected);
}

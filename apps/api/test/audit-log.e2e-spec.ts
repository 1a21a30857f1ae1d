import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { ByokKeyStore } from '#libs/byok';
import { PrismaService } from '#libs/database';
import { type RequestActor, TenantTokenService } from '#libs/tenancy';
import { ProviderSimulator, scanTexts, simulatorEnv } from '#libs/testing';
import type { auditPageView } from '../src/audit/audit.dto.js';
import { type ApiErrorBody, ApiHarness, type Json } from './api-harness.js';
import type { z } from 'zod';

type AuditPage = z.output<typeof auditPageView>;

const key = (prefix = 'sk-') => prefix + randomBytes(24).toString('base64url');
const last4 = (value: string) => value.slice(-4);

/**
 * The audit log end to end: every changing route leaves one row naming the actor (platform admin or
 * token id), the client address and user agent, and a key only by fingerprint and last4; rows cannot
 * be changed or removed; the route pages newest first and filters; tenants see only their own.
 */
describe('Audit log (e2e)', () => {
  const goodKey = key();
  const simulator = new ProviderSimulator({ validKeys: { openai: [goodKey] } });
  const keysWritten: string[] = [goodKey];
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start(simulatorEnv(await simulator.start()));
    prisma = api.app.get(PrismaService);
  });
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
  });

  const audit = (tenantId: string, query = '', token?: string | null) =>
    api.request<AuditPage>('GET', `/v1/tenants/${tenantId}/audit${query}`, { token });
  const tokenIdOf = async (token: string) =>
    (await prisma.tenantToken.findUniqueOrThrow({ where: { tokenHash: createHash('sha256').update(token).digest('hex') } })).id;

  it('records setting put, replace, validate and delete by a tenant token, with fingerprint and last4 before and after', async () => {
    const tenant = await api.newTenant();
    const token = await api.newTenantToken(tenant.id);
    const tokenId = await tokenIdOf(token);
    const headers = { 'user-agent': 'audit-e2e/1.0 (settings)' };
    const first = key();
    keysWritten.push(first);
    const put1 = await api.request<{ fingerprint: string }>('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, {
      token,
      headers,
      body: { value: first },
    });
    expect(put1.status).toBe(200);
    const put2 = await api.request<{ fingerprint: string }>('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, {
      token,
      headers,
      body: { value: goodKey },
    });
    expect(put2.status).toBe(200);
    expect((await api.request('POST', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY/validate`, { token, headers })).status).toBe(200);
    expect((await api.request('DELETE', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { token, headers })).status).toBe(204);
    // refused writes change nothing and record nothing
    expect((await api.request('DELETE', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { token, headers })).status).toBe(404);
    expect(
      (await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { token, headers, body: { value: 'has space' } })).status,
    ).toBe(400);

    const page = await audit(tenant.id, '', token);
    expect(page.status).toBe(200);
    const actor = { kind: 'tenant_token', tokenId, label: 'token "token"' };
    const one = { fingerprint: put1.body.fingerprint, last4: last4(first) };
    const two = { fingerprint: put2.body.fingerprint, last4: last4(goodKey) };
    expect(
      page.body.items.map(({ action, actor, settingKey, before, after, clientAddress, userAgent }) => ({
        action,
        actor,
        settingKey,
        before,
        after,
        clientAddress,
        userAgent,
      })),
    ).toEqual([
      ...[
        { action: 'setting.delete', before: two, after: null },
        { action: 'setting.validate', before: two, after: two },
        { action: 'setting.put', before: one, after: two },
        { action: 'setting.put', before: null, after: one },
      ].map((row) => ({ ...row, actor, settingKey: 'OPENAI_API_KEY', clientAddress: '127.0.0.1', userAgent: headers['user-agent'] })),
      // the harness minted the token as the platform admin, with Node's own user agent
      {
        action: 'token.create',
        actor: { kind: 'platform', tokenId: null, label: 'platform admin' },
        settingKey: null,
        before: null,
        after: null,
        clientAddress: '127.0.0.1',
        userAgent: 'node',
      },
    ]);
    expect(page.body.items[1].details).toEqual({ status: 'valid', provider: 'openai', recorded: true });
    expect(page.body.nextCursor).toBeNull();
  });

  it('records a plain setting with its values, token creation, the key mode and a workspace deletion by the platform admin', async () => {
    const created = await api.request<{ id: string }>('POST', '/v1/tenants', {
      body: { subdomain: `audit-${randomBytes(4).toString('hex')}`, planType: 'team', aiKeyMode: 'managed' },
    });
    expect(created.status).toBe(201);
    const tenantId = created.body.id;
    const longAgent = 'a'.repeat(300);
    const token = await api.newTenantToken(tenantId);
    expect((await api.request('PUT', `/v1/tenants/${tenantId}/settings/GRAPHRAG_PROVIDER`, { body: { value: 'gemini' } })).status).toBe(200);
    const workspace = await api.newWorkspace(tenantId);
    const deletion = await api.request<{ id: string }>('DELETE', `/v1/workspaces/${workspace.id}`, { token, headers: { 'user-agent': longAgent } });
    expect(deletion.status).toBe(202);

    const items = (await audit(tenantId)).body.items;
    expect(items.map((item) => [item.action, item.actor.kind])).toEqual([
      ['workspace.delete', 'tenant_token'],
      ['setting.put', 'platform'],
      ['token.create', 'platform'],
      ['tenant.key_mode', 'platform'],
    ]);
    expect(items[0]).toMatchObject({ userAgent: 'a'.repeat(256), details: { workspaceId: workspace.id, deletionId: deletion.body.id } });
    expect(items[1]).toMatchObject({
      settingKey: 'GRAPHRAG_PROVIDER',
      before: null,
      after: null,
      details: { valueBefore: null, valueAfter: 'gemini' },
    });
    expect(items[2]).toMatchObject({
      actor: { kind: 'platform', tokenId: null, label: 'platform admin' },
      details: { tokenId: await tokenIdOf(token) },
    });
    expect(items[3].details).toEqual({ aiKeyMode: 'managed', planType: 'team' });
  });

  it('records a workspace transfer in the audit of both tenants, and nothing for a transfer to its own owner', async () => {
    const from = await api.newTenant();
    const to = await api.newTenant();
    const workspace = await api.newWorkspace(from.id);
    expect((await api.request('POST', `/v1/workspaces/${workspace.id}/transfer`, { body: { tenantId: from.id } })).status).toBe(200);
    expect((await api.request('POST', `/v1/workspaces/${workspace.id}/transfer`, { body: { tenantId: to.id } })).status).toBe(200);
    for (const tenant of [from, to]) {
      const items = (await audit(tenant.id, '?action=workspace.transfer')).body.items;
      expect(items.map((item) => item.details)).toEqual([{ workspaceId: workspace.id, fromTenantId: from.id, toTenantId: to.id }]);
    }
  });

  it('commits a change and its audit row together: an audit row that cannot be written leaves no change', async () => {
    const tenant = await api.newTenant();
    // a token id Postgres refuses as a uuid: the audit insert fails inside the change's transaction
    const broken: RequestActor = { kind: 'tenant_token', tokenId: 'not-a-uuid', label: 'broken', clientAddress: null, userAgent: null };
    const value = key();
    keysWritten.push(value);
    await expect(api.app.get(ByokKeyStore).put(tenant.id, 'OPENAI_API_KEY', value, broken)).rejects.toThrow();
    await expect(api.app.get(TenantTokenService).issue(tenant.id, {}, broken)).rejects.toThrow();
    expect(await prisma.tenantSetting.count({ where: { tenantId: tenant.id } })).toBe(0);
    expect(await prisma.tenantToken.count({ where: { tenantId: tenant.id } })).toBe(0);
    expect(await prisma.auditEvent.count({ where: { tenantId: tenant.id } })).toBe(0);
  });

  it('refuses UPDATE and DELETE of an audit row in the database itself', async () => {
    const tenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`, { body: { value: 'openai' } });
    const client = new pg.Client({ connectionString: api.config.databaseUrl });
    await client.connect();
    try {
      await expect(client.query(`UPDATE audit_events SET actor_label = 'someone else' WHERE tenant_id = $1`, [tenant.id])).rejects.toThrow(
        /audit_events is append-only: UPDATE refused/,
      );
      await expect(client.query('DELETE FROM audit_events WHERE tenant_id = $1', [tenant.id])).rejects.toThrow(
        /audit_events is append-only: DELETE refused/,
      );
      const { rows } = await client.query<{ actor_label: string }>('SELECT actor_label FROM audit_events WHERE tenant_id = $1', [tenant.id]);
      expect(rows).toEqual([{ actor_label: 'platform admin' }]);
    } finally {
      await client.end();
    }
  });

  it('pages newest first with a cursor, filters by action and time, and refuses bad parameters with 400', async () => {
    const tenant = await api.newTenant();
    const values = ['openai', 'gemini', 'deepseek', 'openai', 'gemini'];
    for (const value of values) await api.request('PUT', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`, { body: { value } });
    await api.newTenantToken(tenant.id);

    const seen: Json<AuditPage>['items'] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof audit>> = await audit(tenant.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((item) => item.action)).toEqual(['token.create', ...values.map(() => 'setting.put')]);
    expect(seen.map((item) => item.details.valueAfter ?? null)).toEqual([null, ...[...values].reverse()]);
    expect(new Set(seen.map((item) => item.id)).size).toBe(6);
    const times = seen.map((item) => Date.parse(item.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    expect((await audit(tenant.id, '?action=token.create')).body.items.map((item) => item.action)).toEqual(['token.create']);
    const oldest = seen.at(-1)!.occurredAt;
    const newest = seen[0].occurredAt;
    expect((await audit(tenant.id, `?to=${encodeURIComponent(oldest)}`)).body.items).toEqual([]);
    expect((await audit(tenant.id, `?from=${encodeURIComponent(oldest)}&action=setting.put`)).body.items).toHaveLength(5);
    const afterNewest = new Date(Date.parse(newest) + 1).toISOString();
    expect((await audit(tenant.id, `?from=${encodeURIComponent(afterNewest)}`)).body.items).toEqual([]);

    for (const query of [
      '?limit=0',
      '?limit=101',
      '?limit=x',
      '?action=setting.rename',
      '?cursor=not-ours',
      '?cursor=%25',
      '?from=yesterday',
      `?from=${newest}&to=${oldest}`,
      '?extra=1',
    ]) {
      const refused = await audit(tenant.id, query);
      expect([query, refused.status]).toEqual([query, 400]);
      expect((refused.body as unknown as ApiErrorBody).error.code).toBe('VALIDATION_FAILED');
    }
  });

  it("answers 404 for another tenant's audit and 401 without a token", async () => {
    const mine = await api.newTenant();
    const theirs = await api.newTenant();
    const token = await api.newTenantToken(mine.id);
    expect((await audit(mine.id, '', token)).status).toBe(200);
    const other = await audit(theirs.id, '', token);
    expect(other.status).toBe(404);
    expect((other.body as unknown as ApiErrorBody).error.code).toBe('TENANT_NOT_FOUND');
    expect((await audit(theirs.id, '', null)).status).toBe(401);
    expect((await audit('not-a-uuid')).status).toBe(400);
  });

  it('holds no key text anywhere in the table', async () => {
    const client = new pg.Client({ connectionString: api.config.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ row: string }>('SELECT row_to_json(a)::text AS row FROM audit_events a').finally(() => client.end());
    expect(rows.length).toBeGreaterThan(10);
    expect(await prisma.auditEvent.count({ where: { fingerprintAfter: { not: null } } })).toBeGreaterThan(0);
    expect(
      scanTexts(
        'audit_events',
        rows.map((r) => r.row),
        keysWritten.map((value, index) => ({ name: `key ${index}`, value })),
      ),
    ).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import type { MaskedSetting } from '#libs/byok';
import type { TenantView, WorkspaceView } from '../src/tenants/tenant.dto.js';
import { type ApiErrorBody, ApiHarness, type ListOf } from './api-harness.js';
import { keyEchoes } from './key-echo.js';

const canaryKey = () => `sk-canary-${randomBytes(16).toString('hex')}-4207`;

/** The parts of the OpenAPI document these tests read. */
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}
interface OpenApiOperation {
  parameters: unknown[];
  requestBody: { content: Record<string, { schema: OpenApiSchema }> };
  responses: Record<string, { content: Record<string, { schema: OpenApiSchema }> }>;
}
interface OpenApiSchema {
  properties: Record<string, OpenApiSchema>;
  enum?: unknown[];
}

/** A Buffer as JSON.stringify writes it. */
const isSerializedBuffer = (value: unknown): value is { type: 'Buffer'; data: number[] } =>
  (value as { type?: unknown } | null | undefined)?.type === 'Buffer';

describe('Admin API (e2e)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start();
  });
  afterAll(() => api.close());

  async function newTenantOverHttp(aiKeyMode = 'byok') {
    const subdomain = `acme-${randomBytes(4).toString('hex')}`;
    const res = await api.request<TenantView>('POST', '/v1/tenants', { body: { subdomain, planType: 'team', aiKeyMode } });
    expect(res.status).toBe(201);
    return res.body;
  }

  describe('auth', () => {
    it('answers 401 without a token or with a wrong one', async () => {
      for (const token of [null, 'nope', `tt_${randomBytes(32).toString('base64url')}`]) {
        const res = await api.request('GET', `/v1/tenants/${randomUUID()}`, { token });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
      }
    });

    it('lets only the platform admin create tenants', async () => {
      const tenant = await newTenantOverHttp();
      const token = await api.newTenantToken(tenant.id);
      const res = await api.request<ApiErrorBody>('POST', '/v1/tenants', {
        token,
        body: { subdomain: 'sneaky', planType: 'team', aiKeyMode: 'byok' },
      });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    });

    it('tells a token who it is (GET /v1/me)', async () => {
      expect((await api.request('GET', '/v1/me')).body).toEqual({ kind: 'platform' });
      const tenant = await newTenantOverHttp();
      const token = await api.newTenantToken(tenant.id);
      const me = await api.request('GET', '/v1/me', { token });
      expect(me.body).toMatchObject({ kind: 'tenant', tenant: { id: tenant.id, subdomain: tenant.subdomain, aiKeyMode: 'byok' } });
    });

    it('serves health and docs without a token', async () => {
      const health = await api.request('GET', '/health', { token: null });
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'ok', details: { postgres: { status: 'up' }, redis: { status: 'up' } } });
      const docs = await api.request<OpenApiDocument>('GET', '/docs/openapi.json', { token: null });
      expect(docs.status).toBe(200);
      expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/tenants', '/v1/tenants/{tenantId}/settings/{key}']));
    });

    it('documents each input with the zod schema that validates it', async () => {
      const { paths } = (await api.request<OpenApiDocument>('GET', '/docs/openapi.json', { token: null })).body;
      const createTenant = paths['/v1/tenants'].post.requestBody.content['application/json'].schema;
      expect(createTenant).toMatchObject({
        type: 'object',
        required: ['subdomain', 'planType', 'aiKeyMode'],
        additionalProperties: false,
        properties: { planType: { enum: ['free', 'team', 'enterprise'] }, aiKeyMode: { enum: ['byok', 'managed'] } },
      });
      const graphParameters = paths['/v1/workspaces/{workspaceId}/graph'].get.parameters;
      expect(graphParameters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'limit', in: 'query', required: false }),
          expect.objectContaining({ name: 'workspaceId', in: 'path', schema: expect.objectContaining({ format: 'uuid' }) }),
        ]),
      );
      const backfill = paths['/v1/backfills/{jobId}'].get.responses['200'].content['application/json'].schema;
      expect(backfill.properties.status.enum).toEqual(['queued', 'preflight', 'running', 'succeeded', 'failed', 'cancelled']);
      expect(backfill.properties.createdAt).toEqual({ type: 'string', format: 'date-time' });
      // an invalid body is refused by the same schema: the document cannot promise what is not enforced
      const refused = await api.request<ApiErrorBody>('POST', '/v1/tenants', { body: { subdomain: 'ok-name', planType: 'gold', aiKeyMode: 'byok' } });
      expect(refused.body.error).toEqual({ code: 'VALIDATION_FAILED', message: 'planType must be one of free, team, enterprise' });
    });
  });

  describe('tenants, workspaces and tokens', () => {
    it('creates and reads a tenant', async () => {
      const tenant = await newTenantOverHttp('managed');
      const res = await api.request('GET', `/v1/tenants/${tenant.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: tenant.id, subdomain: tenant.subdomain, planType: 'team', aiKeyMode: 'managed' });
    });

    it('answers 409 for a taken subdomain', async () => {
      const tenant = await newTenantOverHttp();
      const res = await api.request<ApiErrorBody>('POST', '/v1/tenants', {
        body: { subdomain: tenant.subdomain, planType: 'free', aiKeyMode: 'byok' },
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('SUBDOMAIN_TAKEN');
    });

    it('creates and lists workspaces with a tenant token', async () => {
      const tenant = await newTenantOverHttp();
      const token = await api.newTenantToken(tenant.id);
      const created = await api.request<WorkspaceView>('POST', `/v1/tenants/${tenant.id}/workspaces`, { token, body: { name: 'Support inbox' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.any(String), tenantId: tenant.id, name: 'Support inbox' });
      const list = await api.request<ListOf<WorkspaceView>>('GET', `/v1/tenants/${tenant.id}/workspaces`, { token });
      expect(list.body.items.map((w: { id: string }) => w.id)).toEqual([created.body.id]);
    });

    it('shows a token once and keeps only its hash', async () => {
      const tenant = await newTenantOverHttp();
      const token = await api.newTenantToken(tenant.id);
      expect(token).toMatch(/^tt_[A-Za-z0-9_-]{43}$/);
      const rows = await api.app.get((await import('#libs/database')).PrismaService).tenantToken.findMany({ where: { tenantId: tenant.id } });
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(token.slice(3));
    });
  });

  describe('settings', () => {
    it('masks a stored key in every response and in the row', async () => {
      const tenant = await newTenantOverHttp();
      const key = canaryKey();

      const put = await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({
        key: 'OPENAI_API_KEY',
        isSecret: true,
        last4: '4207',
        fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
        validationStatus: 'unknown',
        validatedAt: null,
        updatedAt: expect.any(String),
      });
      const list = await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenant.id}/settings`);
      expect(list.body.items).toHaveLength(1);

      const { PrismaService } = await import('#libs/database');
      const rows = await api.app.get(PrismaService).$queryRaw<Record<string, unknown>[]>`SELECT * FROM tenant_settings`;
      const dump = JSON.stringify(rows, (_, v: unknown) => (isSerializedBuffer(v) ? Buffer.from(v.data).toString('latin1') : v));
      // no piece of the key, anywhere: not whole, not its random middle, not cut off
      expect(keyEchoes('text', [put.text, list.text, dump, ...api.logs.lines], [key])).toEqual([]);
      // and the search does find a piece of the key where one is planted
      expect(keyEchoes('planted', [`xx${key.slice(5, 20)}xx`], [key])).toHaveLength(1);
    });

    it('stores, lists and deletes a non-secret setting', async () => {
      const tenant = await newTenantOverHttp();
      const put = await api.request('PUT', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`, { body: { value: 'deepseek' } });
      expect(put.body).toMatchObject({ key: 'GRAPHRAG_PROVIDER', isSecret: false, value: 'deepseek' });
      expect((await api.request('DELETE', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`)).status).toBe(204);
      expect((await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenant.id}/settings`)).body.items).toEqual([]);
      const again = await api.request<ApiErrorBody>('DELETE', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('SETTING_NOT_FOUND');
    });

    it("answers 404 for another tenant's resources and changes nothing", async () => {
      const mine = await newTenantOverHttp();
      const theirs = await newTenantOverHttp();
      const theirKey = canaryKey();
      const stored = await api.request<MaskedSetting>('PUT', `/v1/tenants/${theirs.id}/settings/OPENAI_API_KEY`, { body: { value: theirKey } });
      // a verdict on their key, so a write would have a validation status and date to change
      const { ByokKeyStore } = await import('#libs/byok');
      const { PrismaService, ValidationStatus } = await import('#libs/database');
      await api.app
        .get(ByokKeyStore)
        .recordValidation(theirs.id, 'OPENAI_API_KEY', stored.body.fingerprint!, ValidationStatus.valid, new Date('2026-01-02T03:04:05.678Z'));
      const theirWorkspace = await api.request<WorkspaceView>('POST', `/v1/tenants/${theirs.id}/workspaces`, { body: { name: 'Their inbox' } });
      await api.newTenantToken(theirs.id);
      const token = await api.newTenantToken(mine.id);
      const prisma = api.app.get(PrismaService);
      /** Everything of theirs a refused request could touch: the key as shown and as stored, workspaces, tokens. */
      const theirState = async () => ({
        settings: (await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${theirs.id}/settings`)).body.items,
        row: await prisma.tenantSetting.findUnique({ where: { tenantId_settingKey: { tenantId: theirs.id, settingKey: 'OPENAI_API_KEY' } } }),
        workspaces: (await api.request<ListOf<WorkspaceView>>('GET', `/v1/tenants/${theirs.id}/workspaces`)).body.items,
        tokens: await prisma.tenantToken.findMany({ where: { tenantId: theirs.id }, orderBy: { id: 'asc' } }),
        tenant: (await api.request<TenantView>('GET', `/v1/tenants/${theirs.id}`)).body,
      });
      const before = await theirState();
      expect(before.settings).toEqual([
        expect.objectContaining({
          key: 'OPENAI_API_KEY',
          fingerprint: stored.body.fingerprint,
          last4: '4207',
          validationStatus: 'valid',
          validatedAt: '2026-01-02T03:04:05.678Z',
        }),
      ]);
      expect(before.workspaces.map((w) => w.id)).toEqual([theirWorkspace.body.id]);
      expect(before.tokens).toHaveLength(1);

      const attempts = [
        ['GET', `/v1/tenants/${theirs.id}`, undefined],
        ['GET', `/v1/tenants/${theirs.id}/settings`, undefined],
        ['PUT', `/v1/tenants/${theirs.id}/settings/OPENAI_API_KEY`, { value: canaryKey() }],
        ['POST', `/v1/tenants/${theirs.id}/settings/OPENAI_API_KEY/validate`, undefined],
        ['DELETE', `/v1/tenants/${theirs.id}/settings/OPENAI_API_KEY`, undefined],
        ['GET', `/v1/tenants/${theirs.id}/workspaces`, undefined],
        ['POST', `/v1/tenants/${theirs.id}/workspaces`, { name: 'x' }],
        ['POST', `/v1/tenants/${theirs.id}/tokens`, {}],
      ] as const;
      for (const [method, path, body] of attempts) {
        const res = await api.request<ApiErrorBody>(method, path, { token, body });
        expect({ method, path, status: res.status, code: res.body?.error?.code }).toEqual({ method, path, status: 404, code: 'TENANT_NOT_FOUND' });
      }

      // the same key (fingerprint, last4, ciphertext), the same verdict and date, the same workspaces and tokens
      expect(await theirState()).toEqual(before);
      expect(keyEchoes('response', api.responses, [theirKey])).toEqual([]);
      // its own tenant still works with the same token
      expect((await api.request('GET', `/v1/tenants/${mine.id}/settings`, { token })).status).toBe(200);
    });

    it.each([
      ['an unknown setting key', 'PUT', 'NOT_A_SETTING', { value: 'sk-1234567890abcdefghij' }, 'UNKNOWN_SETTING_KEY'],
      ['a setting key with whitespace inside', 'PUT', 'OPENAI%20API_KEY', { value: 'sk-1234567890abcdefghij' }, 'UNKNOWN_SETTING_KEY'],
      ['an empty value', 'PUT', 'OPENAI_API_KEY', { value: '' }, 'INVALID_SETTING_VALUE'],
      ['a blank value', 'PUT', 'OPENAI_API_KEY', { value: '   ' }, 'INVALID_SETTING_VALUE'],
      ['a missing value', 'PUT', 'OPENAI_API_KEY', {}, 'VALIDATION_FAILED'],
      ['a value over 512 characters', 'PUT', 'OPENAI_API_KEY', { value: 's'.repeat(513) }, 'INVALID_SETTING_VALUE'],
      ['whitespace inside a key', 'PUT', 'OPENAI_API_KEY', { value: 'sk-12345 67890abcdefghij' }, 'INVALID_SETTING_VALUE'],
      ['a tab inside a key', 'PUT', 'OPENAI_API_KEY', { value: 'sk-12345\t67890abcdefghij' }, 'INVALID_SETTING_VALUE'],
      ['a control character inside a key', 'PUT', 'OPENAI_API_KEY', { value: 'sk-12345\u000767890abcdefghij' }, 'INVALID_SETTING_VALUE'],
      ['a number instead of a string', 'PUT', 'OPENAI_API_KEY', { value: 12345678901234 }, 'INVALID_SETTING_VALUE'],
      ['an extra property', 'PUT', 'OPENAI_API_KEY', { value: 'sk-1234567890abcdefghij', other: 1 }, 'VALIDATION_FAILED'],
    ])('answers 400 for %s and writes nothing', async (_, method, key, body, code) => {
      const tenant = await newTenantOverHttp();
      const res = await api.request(method, `/v1/tenants/${tenant.id}/settings/${key}`, { body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
      expect((await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenant.id}/settings`)).body.items).toEqual([]);
    });
  });

  describe('bad input', () => {
    it.each([
      ['a malformed tenant uuid', 'GET', '/v1/tenants/not-a-uuid', undefined, 'VALIDATION_FAILED'],
      ['a malformed uuid in settings', 'PUT', '/v1/tenants/1234/settings/OPENAI_API_KEY', { value: 'sk-1234567890abcdefghij' }, 'VALIDATION_FAILED'],
      ['an unknown plan', 'POST', '/v1/tenants', { subdomain: 'ok-name', planType: 'gold', aiKeyMode: 'byok' }, 'VALIDATION_FAILED'],
      ['an unknown key mode', 'POST', '/v1/tenants', { subdomain: 'ok-name', planType: 'team', aiKeyMode: 'global' }, 'VALIDATION_FAILED'],
      ['a bad subdomain', 'POST', '/v1/tenants', { subdomain: 'Bad Name!', planType: 'team', aiKeyMode: 'byok' }, 'VALIDATION_FAILED'],
      ['an empty workspace name', 'POST', `/v1/tenants/${randomUUID()}/workspaces`, { name: '' }, 'VALIDATION_FAILED'],
    ])('answers 400 for %s', async (_, method, path, body, code) => {
      const res = await api.request(method, path, { body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    });

    it('answers 400 MALFORMED_JSON for a body that is not JSON', async () => {
      const res = await api.request('POST', '/v1/tenants', { raw: { data: '{"subdomain": ', contentType: 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'MALFORMED_JSON', message: 'The request body is not valid JSON' } });
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/x-ndjson'])(
      'answers 415 for a JSON route body sent as %s, instead of dropping its fields',
      async (contentType) => {
        const tenant = { subdomain: `media-${randomUUID().slice(0, 8)}`, planType: 'team', aiKeyMode: 'byok' };
        const res = await api.request<ApiErrorBody>('POST', '/v1/tenants', { raw: { data: JSON.stringify(tenant), contentType } });
        expect(res.status).toBe(415);
        expect(res.body).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('application/json') } });
        // nothing was written: the same tenant can still be created
        expect((await api.request('POST', '/v1/tenants', { body: tenant })).status).toBe(201);
      },
    );

    it('answers 404 in the error shape for an unknown route, echoing neither its path nor its query string', async () => {
      const pasted = 'sk-proj-pasted0000000000000000000';
      const res = await api.request<ApiErrorBody>('GET', `/v1/nothing-here/${pasted}?key=${pasted}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      expect(res.text).not.toContain(pasted);
      expect(res.text).not.toContain('nothing-here');
    });

    it('never echoes an unknown setting key (a key pasted where the name goes), and names the known ones', async () => {
      const tenant = await newTenantOverHttp();
      const pasted = 'sk-proj-pastedAsName000000000000';
      const res = await api.request<ApiErrorBody>('PUT', `/v1/tenants/${tenant.id}/settings/${pasted}`, { body: { value: 'x' } });
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({ code: 'UNKNOWN_SETTING_KEY', message: expect.stringContaining('OPENAI_API_KEY') });
      expect(res.text).not.toContain(pasted);
    });

    it('answers 404 for a well-formed but unknown tenant', async () => {
      const res = await api.request<ApiErrorBody>('GET', `/v1/tenants/${randomUUID()}/settings`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('TENANT_NOT_FOUND');
    });
  });

  it('never writes a bearer token into the logs', async () => {
    const tenant = await newTenantOverHttp();
    const token = await api.newTenantToken(tenant.id);
    await api.request('GET', `/v1/tenants/${tenant.id}`, { token });
    expect(api.logs.lines.length).toBeGreaterThan(0);
    expect(api.logs.text).not.toContain(token);
    expect(api.logs.text).not.toContain(api.adminToken);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';

/** The parts of an OpenAPI 3.0 document this file reads. */
interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}
interface Schema {
  $ref?: string;
  type?: string;
  oneOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { description?: string; content?: Record<string, MediaType> }>;
  'x-error-codes'?: string[];
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, { type: string; scheme: string; bearerFormat?: string; description?: string }>;
  };
}

const ERROR_REF = '#/components/schemas/Error';

/**
 * The OpenAPI document as /docs/openapi.json serves it: every operation described, with its error
 * answers on the one Error schema, request examples, the right body and setting types and the bearer
 * format; and the router's 405 with Allow for a known path asked with another method.
 */
describe('The OpenAPI document and 405 (e2e)', () => {
  let api: ApiHarness;
  let document: Document;
  let operations: { key: string; path: string; method: string; operation: Operation }[];

  beforeAll(async () => {
    api = await ApiHarness.start({ LOG_LEVEL: 'warn' });
    document = (await api.request<Document>('GET', '/docs/openapi.json')).body;
    operations = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, path, method, operation })),
    );
  });
  afterAll(() => api.close());

  it('declares one error schema with error.code and error.message', () => {
    const error = document.components.schemas.Error;
    expect(error.properties?.error.required).toEqual(expect.arrayContaining(['code', 'message']));
    expect(error.properties?.error.properties?.code).toMatchObject({
      type: 'string',
      enum: expect.arrayContaining(['METHOD_NOT_ALLOWED', 'VALIDATION_FAILED']),
    });
    expect(error.properties?.error.properties?.message).toMatchObject({ type: 'string' });
  });

  it('gives every operation a summary, a description and its 4xx answers on the Error schema, each listing its codes with an example', () => {
    expect(operations.length).toBeGreaterThan(45);
    for (const { key, operation } of operations) {
      expect({ key, summary: typeof operation.summary, description: typeof operation.description }).toEqual({
        key,
        summary: 'string',
        description: 'string',
      });
      expect(operation.summary!.length).toBeGreaterThan(5);
      expect(operation.description!.length).toBeGreaterThan(10);
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400 && !(key === 'GET /health' && status === '503'));
      expect({ key, has4xx: errors.some(([status]) => status.startsWith('4')) }).toEqual({ key, has4xx: true });
      for (const [status, response] of errors) {
        const media = response.content?.['application/json'];
        expect({ key, status, schema: media?.schema }).toEqual({ key, status, schema: { $ref: ERROR_REF } });
        const codes = Object.keys(media?.examples ?? {});
        expect(codes.length).toBeGreaterThan(0);
        for (const code of codes) {
          expect(response.description).toContain(code);
          expect(operation['x-error-codes']).toContain(code);
          expect(media!.examples![code].value).toEqual({ error: { code, message: expect.any(String) } });
        }
      }
    }
  });

  it('lists what a route can answer: its own codes and those of its kind', () => {
    const codes = (key: string) => operations.find((o) => o.key === key)!.operation['x-error-codes'];
    expect(codes('POST /v1/tenants')).toEqual(
      expect.arrayContaining([
        'VALIDATION_FAILED',
        'MALFORMED_JSON',
        'UNAUTHENTICATED',
        'FORBIDDEN',
        'SUBDOMAIN_TAKEN',
        'PAYLOAD_TOO_LARGE',
        'DATABASE_UNAVAILABLE',
      ]),
    );
    // the guard refuses a tenant token on a platform-only route before it looks at its scope
    expect(codes('POST /v1/tenants')).not.toContain('TOKEN_READ_ONLY');
    expect(codes('PUT /v1/tenants/{tenantId}/settings/{key}')).toEqual(
      expect.arrayContaining([
        'TOKEN_READ_ONLY',
        'TOO_MANY_WRITES',
        'TENANT_NOT_FOUND',
        'UNKNOWN_SETTING_KEY',
        'INVALID_SETTING_VALUE',
        'EGRESS_REFUSED',
      ]),
    );
    expect(codes('GET /v1/tenants/{tenantId}/tokens')).toContain('TOKEN_READ_ONLY');
    expect(codes('GET /v1/tenants/{tenantId}')).not.toContain('TOKEN_READ_ONLY');
    expect(codes('POST /v1/workspaces/{workspaceId}/backfills')).toEqual(
      expect.arrayContaining([
        'BACKFILL_ALREADY_ACTIVE',
        'QUEUE_UNAVAILABLE',
        'BYOK_HEADERS_INCOMPLETE',
        'BYOK_PROVIDER_UNKNOWN',
        'BYOK_KEY_INVALID',
      ]),
    );
    expect(codes('POST /v1/workspaces/{workspaceId}/records')).toEqual(
      expect.arrayContaining(['RECORDS_LIMIT', 'UNSUPPORTED_MEDIA_TYPE', 'WORKSPACE_NOT_FOUND']),
    );
    expect(codes('GET /health')).not.toContain('UNAUTHENTICATED');
    const tooMany = operations.find((o) => o.key === 'POST /v1/tenants/{tenantId}/workspaces')!.operation.responses['429'];
    expect(tooMany).toMatchObject({ headers: { 'Retry-After': expect.any(Object) } });
  });

  it('shows an example for every request body', () => {
    const withBody = operations.filter((o) => o.operation.requestBody);
    expect(withBody.length).toBeGreaterThanOrEqual(15);
    for (const { key, operation } of withBody) {
      for (const [type, media] of Object.entries(operation.requestBody!.content)) {
        // a form's file part has no example a document could show
        if (type === 'multipart/form-data') continue;
        expect({ key, type, example: media.example !== undefined || Object.keys(media.examples ?? {}).length > 0 }).toEqual({
          key,
          type,
          example: true,
        });
      }
    }
  });

  it('shows an example body for every success answer that has one, valid against its schema at load', () => {
    let answers = 0;
    for (const { key, operation } of operations) {
      const successes = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
      expect({ key, successes: successes.length > 0 }).toEqual({ key, successes: true });
      for (const [status, response] of successes) {
        // 204 and a 202 that only says "asked for" carry no body
        if (!response.content) {
          expect({ key, status, bodiless: status === '204' || key === 'POST /v1/backfills/{jobId}/cancel' }).toEqual({ key, status, bodiless: true });
        }
        for (const [type, media] of Object.entries(response.content ?? {})) {
          answers += 1;
          const examples = Object.values(media.examples ?? {});
          expect({ key, status, type, example: media.example !== undefined || examples.length > 0 }).toEqual({ key, status, type, example: true });
          for (const example of examples)
            expect({ key, status, type, value: example.value !== undefined }).toEqual({ key, status, type, value: true });
        }
      }
    }
    expect(answers).toBeGreaterThanOrEqual(45);
    // a created token is shown whole once: its example is plainly fake, and no example anywhere holds a real-looking key
    const issued = document.paths['/v1/tenants/{tenantId}/tokens'].post.responses['201'].content!['application/json'];
    expect(issued.examples!.example.value).toMatchObject({ token: `tt_${'x'.repeat(43)}` });
    expect(JSON.stringify(document.paths)).not.toMatch(/sk-[A-Za-z0-9]{8}/);
    const metrics = document.paths['/metrics'].get.responses['200'].content!['text/plain'];
    expect(String(metrics.example)).toMatch(/^# HELP byok_/);
  });

  it('documents the bearer scheme as an opaque token, not a JWT', () => {
    const bearer = document.components.securitySchemes.bearer;
    expect(bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque' });
    expect(bearer.description).toMatch(/tt_/);
    expect(bearer.description).toMatch(/admin token/);
  });

  it('documents the records upload as a union: a JSON array or { records }, or NDJSON text', () => {
    const content = document.paths['/v1/workspaces/{workspaceId}/records'].post.requestBody!.content;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'application/jsonl', 'application/x-ndjson']);
    const [array, wrapped] = content['application/json'].schema!.oneOf!;
    expect(array).toMatchObject({ type: 'array', items: { type: 'object', required: expect.arrayContaining(['externalId', 'body', 'sentAt']) } });
    expect(wrapped).toMatchObject({ type: 'object', required: ['records'], properties: { records: { type: 'array' } } });
    expect(content['application/x-ndjson'].schema).toMatchObject({ type: 'string' });
    expect(
      String(content['application/x-ndjson'].example)
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toHaveLength(2);
    const mbox = document.paths['/v1/workspaces/{workspaceId}/imports/mbox'].post.requestBody!.content;
    expect(mbox['application/mbox'].schema).toMatchObject({ type: 'string', format: 'binary' });
    expect(mbox['multipart/form-data'].schema).toMatchObject({ type: 'object', required: ['file'] });
  });

  it("documents a setting's value as a string, and GET /v1/tenants with its paging and filter", () => {
    const put = document.paths['/v1/tenants/{tenantId}/settings/{key}'].put.requestBody!.content['application/json'];
    expect(put.schema?.properties?.value).toMatchObject({ type: 'string' });
    const list = document.paths['/v1/tenants'].get;
    expect(list.parameters?.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(expect.arrayContaining(['limit', 'cursor', 'subdomain']));
    expect(list['x-error-codes']).toContain('FORBIDDEN');
  });

  describe('405 Method Not Allowed', () => {
    it('answers a wrong method on a known path 405 with Allow and the error body, before authentication', async () => {
      const tenantId = randomUUID();
      const cases: [method: string, path: string, allow: string][] = [
        ['POST', '/v1/me', 'GET, HEAD, OPTIONS'],
        ['DELETE', '/v1/tenants', 'GET, HEAD, OPTIONS, POST'],
        ['GET', `/v1/tenants/${tenantId}/tokens/${randomUUID()}/rotate`, 'OPTIONS, POST'],
        ['PATCH', `/v1/tenants/${tenantId}/settings/OPENAI_API_KEY`, 'DELETE, OPTIONS, PUT'],
        ['PUT', '/health', 'GET, HEAD, OPTIONS'],
        // express routes any letter case and a trailing slash: so does the 405
        ['POST', '/V1/Me/', 'GET, HEAD, OPTIONS'],
      ];
      for (const [method, path, allow] of cases) {
        for (const token of [undefined, null, 'tt_not-a-token']) {
          const res = await api.request<ApiErrorBody>(method, path, { token });
          expect({ method, path, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, path, status: 405, allow });
          expect(res.body).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on this path; it allows ${allow}` } });
        }
      }
    });

    it("tells nothing of whether the resource exists: another tenant's id answers as a missing one", async () => {
      const owner = await api.newTenant();
      const stranger = await api.newTenantToken((await api.newTenant()).id);
      const real = await api.request('DELETE', `/v1/tenants/${owner.id}/audit`, { token: stranger });
      const missing = await api.request('DELETE', `/v1/tenants/${randomUUID()}/audit`, { token: stranger });
      expect([real.status, real.headers.get('allow'), real.text]).toEqual([missing.status, missing.headers.get('allow'), missing.text]);
      expect(real.status).toBe(405);
    });

    it('answers HEAD on a path without GET 405 with Allow and no body, and HEAD where GET is as GET', async () => {
      const post = await api.request('HEAD', `/v1/tenants/${randomUUID()}/settings/OPENAI_API_KEY/validate`);
      expect([post.status, post.headers.get('allow'), post.text]).toEqual([405, 'OPTIONS, POST', '']);
      expect((await api.request('HEAD', '/v1/me')).status).toBe(200);
    });

    it('answers OPTIONS on a known path 204 with Allow: the methods of every documented path template it matches', async () => {
      const templates = Object.entries(document.paths).map(([path, ops]) => ({
        pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`),
        methods: Object.keys(ops).map((m) => m.toUpperCase()),
      }));
      for (const path of Object.keys(document.paths)) {
        const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'key' ? 'OPENAI_API_KEY' : randomUUID()));
        const res = await api.request('OPTIONS', concrete, { token: null });
        // /v1/ai/jobs/extract is also /v1/ai/jobs/{jobId}: express serves GET there (400 for the id)
        const documented = templates.filter((t) => t.pattern.test(concrete)).flatMap((t) => t.methods);
        const expected = [...new Set([...documented, ...(documented.includes('GET') ? ['HEAD'] : []), 'OPTIONS'])].sort().join(', ');
        expect({ path, status: res.status, allow: res.headers.get('allow'), body: res.text }).toEqual({
          path,
          status: 204,
          allow: expected,
          body: '',
        });
      }
    });

    it('keeps unknown paths 404 NOT_FOUND whatever the method, without echoing the path', async () => {
      for (const [method, path] of [
        ['GET', '/v1/nope'],
        ['POST', '/v1/nope?key=sk-secret'],
        ['OPTIONS', '/v1/nope'],
        ['GET', `/v1/tenants/${randomUUID()}/nope`],
        ['DELETE', '/v1/me/extra'],
      ]) {
        const res = await api.request<ApiErrorBody>(method, path);
        expect({ method, path, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, path, status: 404, allow: null });
        expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'No such route; the routes are listed at /docs' } });
      }
    });

    it('answers a path with a malformed percent-encoding 400 without echoing it (the router quoted the raw segment)', async () => {
      for (const [method, path] of [
        ['GET', '/v1/tenants/sk-proj-pasted1234%ZZ'],
        ['POST', '/v1/tenants/sk-proj-pasted1234%ZZ/workspaces'],
        ['GET', '/v1/nope/sk-proj-pasted1234%E0%A4%A'],
      ]) {
        const res = await api.request<ApiErrorBody>(method, path);
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 400 });
        expect(res.body).toEqual({
          error: { code: 'VALIDATION_FAILED', message: 'The path holds a malformed percent-encoding (% must be followed by two hex digits)' },
        });
      }
    });
  });
});

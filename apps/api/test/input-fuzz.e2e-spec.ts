import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { JSON_MAX_DEPTH } from '#libs/common';
import { PrismaService } from '#libs/database';
import type { IngestResult } from '#libs/records';
import { type ApiErrorBody, ApiHarness, type HttpResult, type JobStarted } from './api-harness.js';

/**
 * Point 4 of issue 13, as a property: whatever a client sends (generated JSON with NUL characters,
 * lone surrogates, deep nesting, huge numbers and strings, extreme dates, wrong types and unknown
 * fields; raw text; mbox archives; odd encodings and headers; hostile path and query parameters), every
 * route of the OpenAPI document answers 2xx or a 4xx `{ error: { code, message } }`, never a 5xx, and a
 * refused request leaves every table's row count as it was. A route added later is covered as soon as
 * it is documented. fast-check prints the seed and the failing input when a property fails.
 */

/** A route of the OpenAPI document, with what it documents about its inputs. */
interface Route {
  method: string;
  /** OpenAPI form: /v1/workspaces/{workspaceId}/records */
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodyFields: string[];
  contentTypes: string[];
}

interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

const WRITE_METHODS = ['post', 'put', 'patch', 'delete'];
const RECORD_FIELDS = ['externalId', 'from', 'to', 'cc', 'subject', 'body', 'sentAt', 'records'];
// bounded so the file runs in seconds on two cores; FUZZ_RUNS=500 digs deeper by hand
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 50);
const PARAM_RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 30);

/** Every route the API documents; a new route is fuzzed without touching this file. */
function routesOf(document: { paths: Record<string, Record<string, OpenApiOperation>> }): Route[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => {
      const content = operation.requestBody?.content ?? {};
      return {
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
        queryParams: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.values(content).flatMap((media) => Object.keys(media.schema?.properties ?? {})),
        contentTypes: Object.keys(content),
      };
    }),
  );
}

// ---- generators of hostile input ----

const NASTY_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\udc00\ud800',
  '',
  ' ',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.000Z',
  '2025-02-30T00:00:00Z',
  '1899-12-31T23:59:59Z',
  '2200-01-01T00:00:00Z',
  '-1',
  '1e400',
  '99999999999999999999999',
  '9223372036854775808',
  'NaN',
  '__proto__',
  'constructor',
  'OPENAI_API_KEY',
  'GRAPHRAG_PROVIDER',
  'openai',
  'mbox',
  'api',
  'true',
  '../../etc/passwd',
  '%00',
  '<script>',
  "'; DROP TABLE tenants; --",
];
const NASTY_NUMBERS = [0, -0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE];

// text Postgres cannot store is a fifth of the strings or so: more would refuse nearly every body at
// the first check and leave the handlers behind it untried
const hostileString = fc.oneof(
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }), weight: 4 },
  { arbitrary: fc.string16bits({ maxLength: 24 }), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.string({ maxLength: 12 }), fc.constantFrom('\u0000', '\ud800', '\udfff'), fc.string({ maxLength: 12 }))
      .map((parts) => parts.join('')),
    weight: 1,
  },
  { arbitrary: fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
  { arbitrary: fc.constant(randomUUID()), weight: 1 },
);

/** Any JSON value, built from hostile strings, numbers and the names the route documents as keys. */
function hostileJson(keys: string[]): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    fc.constantFrom(...keys, ...RECORD_FIELDS),
    hostileString.filter((s) => s.length < 100),
  );
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      hostileString,
      fc.constantFrom(...NASTY_NUMBERS),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    ),
  })).value;
}

/**
 * Objects over the route's own fields, each present or not, holding a hostile or a plausible value:
 * enough of a body passes the schema for the hostile value to reach the service and its queries.
 */
function hostileObject(keys: string[], plausible: unknown[]): fc.Arbitrary<Record<string, unknown>> {
  const value = fc.oneof(
    { arbitrary: hostileString, weight: 3 },
    { arbitrary: fc.constantFrom(...plausible), weight: 3 },
    { arbitrary: hostileJson(keys), weight: 1 },
  );
  return fc.record(Object.fromEntries(keys.map((key) => [key, value])), { requiredKeys: [] });
}

/** Raw JSON text no JSON.stringify would write: deep nesting, numbers beyond doubles, broken text. */
const hostileJsonText = fc.oneof(
  fc
    .tuple(fc.integer({ min: JSON_MAX_DEPTH - 2, max: 3_000 }), fc.constantFrom('[', '{"a":', '{"records":[', '{"value":['))
    .map(([depth, open]) => open.repeat(depth) + '1' + (open === '[' ? ']' : open.endsWith('[') ? ']}' : '}').repeat(depth)),
  fc.constantFrom(
    `{"name":1${'0'.repeat(400)}}`,
    `{"value":-1e999}`,
    `{"text":"\\ud800","tenantId":"${randomUUID()}"}`,
    `{"name":"a\\u0000"}`,
    `{"tenantId":"\\u0000"}`,
    '{"a":1,"a":2}',
    '{"__proto__":{"polluted":true}}',
    `[${'{},'.repeat(500)}{}]`,
    '',
    '{',
    'null',
    '"just a string"',
  ),
  fc.string16bits({ maxLength: 60 }),
);

/** An mbox-like archive whose headers carry hostile values and dates. */
const hostileMbox = fc
  .tuple(
    fc.constantFrom(
      'Mon, 1 Jan 0000 00:00:00 +0000',
      'Fri, 31 Dec 275760 00:00:00 +0000',
      '23.03.2015 10:00',
      '=?utf-8?B?MjAxNQ==?=',
      'Tue, 7 Jan 2025 10:00:00 +0000',
    ),
    hostileString,
    fc.string16bits({ maxLength: 80 }),
    fc.constantFrom('text/plain', 'text/html', 'multipart/alternative; boundary=b', 'multipart/mixed'),
  )
  .map(
    ([date, value, body, type]) =>
      `From sender@example.test Tue Jan  7 10:00:00 2025\nDate: ${date}\nFrom: ${value.slice(0, 200)}\nTo: ${value.slice(0, 200)}\nCc: ${value.slice(0, 50)}\n` +
      `Message-ID: <${value.slice(0, 100)}>\nSubject: ${value.slice(0, 100)}\nContent-Type: ${type}\n\n${body}\n--b\n\n${body}\n`,
  );

/** A path segment as a client could send it, percent-encoded (a lone surrogate goes as its CESU-8 bytes). */
const hostileSegment = fc.oneof(
  hostileString.filter((s) => s.length < 2_000).map((s) => (s === '' ? 'x' : encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\uFFFD')))),
  fc.constantFrom('%ED%A0%80', '%00', '%', '%zz', '..', '.', '%2F', 'x'.repeat(4_000), '00000000-0000-0000-0000-000000000000'),
);
const hostileQueryValue = fc.oneof(
  hostileSegment,
  fc.constantFrom('1', '0', '201', '-1', '1.5', '9223372036854775807', '9223372036854775808', '99999999999999999999', 'mbox'),
);

/** Headers that change how a body is read: its encoding, charset and BYOK headers, valid or not. */
const hostileHeaders = fc.option(
  fc.constantFrom<Record<string, string>>(
    { 'content-encoding': 'gzip' },
    { 'content-encoding': 'deflate' },
    { 'content-encoding': 'br' },
    { 'content-encoding': 'zstd' },
    { 'content-type': 'application/json; charset=utf-16le' },
    { 'content-type': 'application/json; charset=latin1' },
    { 'content-type': 'application/json;' },
    { 'content-type': 'APPLICATION/JSON' },
    { 'content-type': 'text/json' },
    { 'x-user-provider': 'openai', 'x-user-api-key': `sk-${'a'.repeat(600)}` },
    { 'x-user-provider': 'nope', 'x-user-api-key': 'sk-abc' },
    { 'x-user-provider': 'openai' },
  ),
  { freq: 4 },
);

// ---- assertions ----

function expectNo5xx(res: HttpResult, what: string): void {
  if (res.status >= 500) throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 300)}`);
}

function expectErrorShape(res: HttpResult, what: string): void {
  if (res.status < 400) return;
  const error = (res.body as Partial<ApiErrorBody> | undefined)?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string' || !error.code || !error.message) {
    throw new Error(`${what} answered ${res.status} without { error: { code, message } }: ${res.text.slice(0, 300)}`);
  }
}

describe('No 5xx on any input (property-based, e2e)', () => {
  let api: ApiHarness;
  let prisma: PrismaService;
  let routes: Route[];
  let countTables: () => Promise<Record<string, number>>;
  const ids: Record<string, string> = {};
  /** Values some field of some route accepts, so a body gets past its first check. */
  let plausible: unknown[] = [];

  beforeAll(async () => {
    api = await ApiHarness.start();
    prisma = api.app.get(PrismaService);
    const { body: document } = await api.request<{ paths: Record<string, Record<string, OpenApiOperation>> }>('GET', '/docs/openapi.json');
    // deletions last: one that succeeds (a workspace, a record) must not leave the routes after it only 404s to try
    routes = routesOf(document).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));

    const tenant = await api.newTenant({ planType: 'enterprise' });
    const workspace = await api.newWorkspace(tenant.id);
    const record = {
      externalId: 'seed',
      from: 'a@example.test',
      to: ['b@example.test'],
      cc: 'c@example.test',
      body: 'Hello',
      sentAt: '2025-01-06T09:00:00Z',
    };
    const ingested = await api.request<IngestResult>('POST', `/v1/workspaces/${workspace.id}/records`, { body: [record] });
    expect(ingested.body).toEqual({ accepted: 1, duplicates: 0, deleted: 0, rejected: [] });
    const doomed = await api.newWorkspace(tenant.id);
    await api.request('POST', `/v1/workspaces/${doomed.id}/records`, { body: [record] });
    const backfill = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    expect(backfill.status).toBe(202);
    const aiJob = await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { body: { text: 'Alice met Bob', tenantId: tenant.id } });
    expect(aiJob.status).toBe(202);
    const webhook = await api.request<{ id: string }>('POST', `/v1/tenants/${tenant.id}/webhooks`, {
      body: { url: 'https://hooks.example.test/fuzz', events: ['key.invalid'] },
    });
    expect(webhook.status).toBe(201);
    plausible = [
      'https://hooks.example.test/fuzz',
      ['backfill.failed', 'key.invalid'],
      tenant.id,
      workspace.id,
      'openai',
      'gemini',
      'api',
      'mbox',
      true,
      false,
      'team',
      'byok',
      'Alice met Bob',
      'b@example.test',
      ['a@example.test'],
      '2025-01-06T09:00:00Z',
    ];
    Object.assign(ids, {
      tenantId: tenant.id,
      workspaceId: workspace.id,
      jobId: backfill.body.jobId,
      aiJobId: aiJob.body.jobId,
      doomedWorkspaceId: doomed.id,
      entityId: randomUUID(),
      endpointId: webhook.body.id,
      key: 'GRAPHRAG_PROVIDER',
    });

    // one statement counts every table, so "nothing half-written" covers tables added later too
    const tables = await prisma.$queryRaw<{ name: string }[]>`
      SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations' ORDER BY tablename`;
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['tenants', 'workspaces', 'source_records', 'backfills', 'ai_jobs', 'tenant_settings']),
    );
    const sql = `SELECT json_build_object(${tables.map((t) => `'${t.name}', (SELECT count(*) FROM "${t.name}")`).join(', ')}) AS counts`;
    countTables = async () => (await prisma.$queryRawUnsafe<{ counts: Record<string, number> }[]>(sql))[0].counts;
  });
  afterAll(() => api.close());

  /** The route's path with its parameters filled in: real ids unless `params` says otherwise. */
  function pathOf(route: Route, params: Record<string, string> = {}): string {
    // an AI job route names an AI job; the others' jobId is the backfill's
    // a deletion works on a workspace of its own: one that succeeds leaves the others theirs to try
    const known = route.path.startsWith('/v1/ai/')
      ? { ...ids, jobId: ids.aiJobId }
      : route.method === 'DELETE'
        ? { ...ids, workspaceId: ids.doomedWorkspaceId }
        : ids;
    return route.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? known[name] ?? randomUUID());
  }

  /** Sends one request and checks the answer: no 5xx, the error shape, and no row written by a refusal. */
  async function probe(
    method: string,
    path: string,
    body: { data: string | Buffer; contentType: string } | undefined,
    what: string,
    headers: Record<string, string> | null = null,
  ) {
    const before = await countTables();
    const { 'content-type': contentType, ...others } = headers ?? {};
    const raw = body && contentType ? { ...body, contentType } : body;
    const res = await api.request(method, path, { ...(raw ? { raw } : {}), headers: others });
    expectNo5xx(res, what);
    expectErrorShape(res, what);
    if (res.status >= 400) expect(await countTables()).toEqual(before);
    return res;
  }

  it('enumerates the write routes from the OpenAPI document', () => {
    const writes = routes.filter((r) => WRITE_METHODS.includes(r.method.toLowerCase())).map((r) => `${r.method} ${r.path}`);
    expect(writes).toEqual(
      expect.arrayContaining([
        'POST /v1/tenants',
        'POST /v1/tenants/{tenantId}/tokens',
        'POST /v1/tenants/{tenantId}/workspaces',
        'PUT /v1/tenants/{tenantId}/settings/{key}',
        'POST /v1/workspaces/{workspaceId}/records',
        'POST /v1/workspaces/{workspaceId}/imports/mbox',
        'POST /v1/workspaces/{workspaceId}/backfills',
        'POST /v1/workspaces/{workspaceId}/transfer',
        'POST /v1/ai/jobs/extract',
      ]),
    );
  });

  it('answers generated bodies on every write route with 2xx or a 4xx error, never a 5xx, and writes nothing when refusing', async () => {
    const writes = routes.filter((r) => WRITE_METHODS.includes(r.method.toLowerCase()));
    for (const route of writes) {
      const jsonTypes = route.contentTypes.filter((t) => t.includes('json'));
      const mboxTypes = route.contentTypes.filter((t) => !t.includes('json') && !t.startsWith('multipart/'));
      const json = (data: string) => ({ data, contentType: 'application/json' });
      const otherJsonTypes = jsonTypes.filter((t) => t !== 'application/json');
      const body = fc.oneof(
        hostileJson(route.bodyFields).map((v) => json(JSON.stringify(v) ?? 'null')),
        hostileObject(route.bodyFields, plausible).map((v) => json(JSON.stringify(v))),
        fc.array(hostileObject(RECORD_FIELDS, plausible), { maxLength: 4 }).map((v) => json(JSON.stringify(v))),
        hostileJsonText.map(json),
        ...(jsonTypes.length > 0
          ? [fc.tuple(hostileJsonText, fc.constantFrom(...jsonTypes)).map(([data, contentType]) => ({ data, contentType }))]
          : []),
        ...(otherJsonTypes.length > 0
          ? [
              fc
                .tuple(fc.array(hostileObject(RECORD_FIELDS, plausible), { maxLength: 4 }), fc.constantFrom(...otherJsonTypes))
                .map(([rows, contentType]) => ({ data: rows.map((row) => JSON.stringify(row)).join('\n'), contentType })),
            ]
          : []),
        // an mbox route gets mbox-like archives most of the time, JSON only now and then
        ...(mboxTypes.length > 0
          ? Array.from({ length: 6 }, () =>
              fc.tuple(hostileMbox, fc.constantFrom(...mboxTypes)).map(([data, contentType]) => ({ data, contentType })),
            )
          : []),
      );
      await fc.assert(
        fc.asyncProperty(body, hostileHeaders, async (sent, headers) => {
          const what = `${route.method} ${route.path} with ${sent.contentType} ${JSON.stringify(headers)} ${String(sent.data).slice(0, 120)}`;
          await probe(route.method, pathOf(route), sent, what, headers);
        }),
        { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
    }
  }, 120_000);

  it('answers hostile path and query parameters on every route with a 4xx, never a 5xx', async () => {
    for (const route of routes) {
      const params = fc.record(Object.fromEntries(route.pathParams.map((name) => [name, fc.option(hostileSegment, { nil: undefined })])));
      const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...route.queryParams, 'limit', 'cursor'), hostileSegment), hostileQueryValue), {
        maxLength: 4,
      });
      await fc.assert(
        fc.asyncProperty(params, query, async (pathParams, pairs) => {
          const filled = Object.fromEntries(Object.entries(pathParams).filter((entry): entry is [string, string] => entry[1] !== undefined));
          const search = pairs.map(([name, value]) => `${name}=${value}`).join('&');
          const path = pathOf(route, filled) + (search ? `?${search}` : '');
          const body = WRITE_METHODS.includes(route.method.toLowerCase()) ? { data: '{}', contentType: 'application/json' } : undefined;
          await probe(route.method, path, body, `${route.method} ${path.slice(0, 300)}`);
        }),
        { numRuns: PARAM_RUNS_PER_ROUTE, endOnFailure: true },
      );
    }
  }, 120_000);

  describe('the inputs that used to answer 500', () => {
    it('refuses a NUL in a workspace name with 400 naming the field', async () => {
      const res = await probe(
        'POST',
        `/v1/tenants/${ids.tenantId}/workspaces`,
        { data: JSON.stringify({ name: 'a\u0000b' }), contentType: 'application/json' },
        'NUL name',
      );
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'name must not contain NUL (U+0000) characters' } });
    });

    it("refuses a NUL or a lone surrogate in an AI job's text with 400 naming the field", async () => {
      for (const text of ['Alice\u0000', 'Alice \ud800 Bob']) {
        const res = await probe(
          'POST',
          '/v1/ai/jobs/extract',
          { data: JSON.stringify({ text, tenantId: ids.tenantId }), contentType: 'application/json' },
          'AI text',
        );
        expect(res.status).toBe(400);
        expect((res.body as ApiErrorBody).error).toEqual({
          code: 'VALIDATION_FAILED',
          message: expect.stringMatching(/^text must not contain (NUL|lone UTF-16 surrogates)/),
        });
      }
    });

    it('refuses a lone surrogate in a property name and in the query string', async () => {
      const inKey = await probe('POST', '/v1/tenants', { data: '{"\\udc00":1}', contentType: 'application/json' }, 'surrogate key');
      expect(inKey.status).toBe(400);
      expect((inKey.body as ApiErrorBody).error.message).toBe(
        'a property name in the request body must not contain lone UTF-16 surrogates (U+D800 to U+DFFF without their pair)',
      );
      const inQuery = await probe('GET', `/v1/workspaces/${ids.workspaceId}/graph?q=a%00b`, undefined, 'NUL query');
      expect(inQuery.status).toBe(400);
      expect((inQuery.body as ApiErrorBody).error).toEqual({ code: 'VALIDATION_FAILED', message: 'q must not contain NUL (U+0000) characters' });
    });

    it('refuses arrays nested 2,000 deep in a 4 KB body before parsing them', async () => {
      const data = '['.repeat(2_000) + ']'.repeat(2_000);
      for (const path of [
        `/v1/tenants/${ids.tenantId}/workspaces`,
        '/v1/ai/jobs/extract',
        `/v1/tenants/${ids.tenantId}/settings/GRAPHRAG_PROVIDER`,
      ]) {
        const res = await probe(path.includes('settings') ? 'PUT' : 'POST', path, { data, contentType: 'application/json' }, 'deep');
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          error: { code: 'VALIDATION_FAILED', message: `The request body nests arrays or objects deeper than ${JSON_MAX_DEPTH} levels` },
        });
      }
    });

    it('rejects a record dated 0000-01-01 by its index and stores the rest of its batch', async () => {
      const rows = [
        { externalId: 'year-zero', body: 'x', sentAt: '0000-01-01T00:00:00Z' },
        { externalId: 'fine', body: 'y', sentAt: '2025-01-06T09:00:00Z' },
        { externalId: 'far', body: 'z', sentAt: '+275760-09-13T00:00:00.000Z' },
      ];
      const res = await api.request<IngestResult>('POST', `/v1/workspaces/${ids.workspaceId}/records`, { body: rows });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accepted: 1,
        duplicates: 0,
        deleted: 0,
        rejected: [
          { index: 0, code: 'INVALID_RECORD', message: 'sentAt must be from 1900-01-01 to 2199-12-31 (UTC)' },
          { index: 2, code: 'INVALID_RECORD', message: 'sentAt must be an ISO 8601 date-time' },
        ],
      });
      expect(await prisma.sourceRecord.count({ where: { workspaceId: ids.workspaceId, externalId: 'fine' } })).toBe(1);
    });
  });
});

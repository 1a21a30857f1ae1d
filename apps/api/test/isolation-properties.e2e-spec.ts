import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { PrismaService } from '#libs/database';
import { type ApiErrorBody, ApiHarness, type HttpResult, type RequestOptions } from './api-harness.js';
import { DatabaseState } from './database-state.js';
import { bodyOf, type Case, caseArbitrary, fixedCases, prepareAllowedWrite, resolveCase, type Route, routesOf } from './isolation-cases.js';
import {
  type Actor,
  expectedVerdict,
  isWrite,
  paramKind,
  type ResourceRef,
  ROUTE_POLICIES,
  TENANTS,
  type TenantName,
  type Verdict,
} from './isolation-model.js';
import { IsolationWorld } from './isolation-world.js';

/**
 * Issue 14, isolation as a property: fast-check draws a route of the OpenAPI document, a caller (a
 * tenant's admin, read, expired, revoked or rotated-away token, the platform admin, no token, an
 * unknown token, the admin token under the wrong scheme) and what the request names (the caller's
 * own tenant's resource, another tenant's, a missing one, a deleted workspace; a token or an entity
 * of another tenant or workspace inside one's own), and the API must answer as the access model in
 * isolation-model.ts says: 401, 403 FORBIDDEN, 403 TOKEN_READ_ONLY, 404 exactly as for a missing id,
 * or success (2xx, or a 4xx about the body or the resource's state, never 401/403/404). Besides:
 * - a refused request changes no row of any table;
 * - no answer to a tenant's token (or to no valid token) carries an id, name or token that only
 *   another tenant may see, unless the request named it itself;
 * - at the end, every tenant no allowed write ever reached (the `vault` at least) is row for row as
 *   it was.
 * A documented route without an expectation fails, so a new route is covered once its line is written.
 *
 * Cases: fixed ones (every route with each kind of caller and target, see fixedCases), then ISO_RUNS
 * (default 1,000) drawn ones; over 1,500 in all. A failure names the case and prints fast-check's
 * seed and path. To replay:
 *   FC_SEED=<seed> node --experimental-vm-modules node_modules/jest/bin/jest.js apps/api/test/isolation-properties.e2e-spec.ts
 * (the whole run), or with FC_PATH=<path> as well for the failing case alone (earlier cases not replayed).
 */

const RANDOM_RUNS = Number(process.env.ISO_RUNS ?? 1_000);
const SEED = process.env.FC_SEED === undefined ? randomBytes(4).readInt32LE() : Number(process.env.FC_SEED);
const REPLAY_PATH = process.env.FC_PATH;

type Outcome = 'allowed' | '401' | '403' | '404';

describe('Tenant isolation on every route (property-based, e2e)', () => {
  let api: ApiHarness;
  let world: IsolationWorld;
  let state: DatabaseState;
  let routes: Route[];

  beforeAll(async () => {
    // warnings only: nothing here reads the logs, and a debug line per request is much of what a request costs
    api = await ApiHarness.start({ LOG_LEVEL: 'warn' });
    routes = routesOf((await api.request<{ paths: Record<string, Record<string, unknown>> }>('GET', '/docs/openapi.json')).body);
    world = await IsolationWorld.build(api);
    state = await DatabaseState.of(api.app.get(PrismaService));
  }, 120_000);
  afterAll(() => api.close());

  it('has an access expectation for every documented route and every path parameter, and none for a route that is gone', () => {
    expect(routes.map((r) => r.key).sort()).toEqual(Object.keys(ROUTE_POLICIES).sort());
    for (const route of routes) for (const param of route.params) paramKind(route.path, param);
  });

  it('answers every caller on every route as the access model says; a refusal changes nothing and no answer leaks', async () => {
    const actors = new Map(world.actors.map((a) => [a.name, a]));
    const byKey = new Map(routes.map((r) => [r.key, r]));
    const workspacesOf = (t: TenantName) => world.tenants[t].workspaces.map((w) => w.id);
    const before = await Promise.all(TENANTS.map((t) => state.ofTenant(world.tenants[t].id, workspacesOf(t))));
    const touched = new Set<TenantName>();
    const seen = new Map(routes.map((r) => [r.key, new Set<Outcome>()]));
    let cases = 0;
    // the database as the last case left it, when that was a refusal that passed: the next case starts from it
    let unchangedSince: Record<string, string> | undefined;

    /** Sends the request and searches the answer for what the caller may not see. */
    async function send(route: Route, actor: Actor, path: string, body: Pick<RequestOptions, 'body' | 'raw'>): Promise<HttpResult> {
      const res = await api.request(route.method, path, { ...world.credentialsOf(actor), ...body });
      // the platform admin sees everything; a tenant's token its own tenant only; any other caller nothing
      if (actor.kind !== 'platform') {
        const viewer = actor.kind === 'admin' || actor.kind === 'read' ? actor.tenant : null;
        const leaked = world.leaks(res.text, viewer, path + JSON.stringify(body.body ?? ''));
        if (leaked.length > 0) throw new Error(`${route.method} ${path} as ${actor.name} leaked ${leaked.join(', ')}: ${res.text.slice(0, 400)}`);
      }
      return res;
    }

    async function check(c: Case): Promise<void> {
      cases++;
      const startState = unchangedSince;
      unchangedSince = undefined;
      const route = byKey.get(c.route)!;
      const actor = actors.get(c.actor)!;
      const target = resolveCase(world, route, actor, c);
      const verdict = expectedVerdict(route.key, actor, target.refs);
      if (verdict.outcome === 'allowed' && isWrite(route.method)) {
        await prepareAllowedWrite(world, route, target);
        for (const ref of target.refs) if (ref.owner) touched.add(ref.owner);
        // a tenant token's AI job without tenantId is its own tenant's
        if (ROUTE_POLICIES[route.key].bodyTenant && actor.tenant) touched.add(actor.tenant);
      }
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(target.values[name]));
      const body = bodyOf(world, route, target);
      const digest = verdict.outcome === 'refused' ? (startState ?? (await state.digest())) : undefined;
      const what = `${route.key} as ${actor.name} naming ${describeRefs(target.refs)}`;
      const res = await send(route, actor, path, body);
      seen.get(route.key)!.add(judge(res, verdict, what));

      if (verdict.outcome === 'refused' && verdict.hidden) {
        // another tenant's (or a deleted) resource answers exactly as a missing one: there is nothing to probe
        const hidden = verdict.hidden.id;
        const stand = randomUUID();
        const swap = (text: string) => text.split(hidden).join(stand);
        const twin = await send(
          route,
          actor,
          swap(path),
          body.body === undefined ? body : { body: JSON.parse(swap(JSON.stringify(body.body))) as unknown },
        );
        if (JSON.stringify(errorShape(res, hidden)) !== JSON.stringify(errorShape(twin, stand))) {
          throw new Error(`${what}: answered ${res.status} ${res.text}, but for a missing id ${twin.status} ${twin.text}`);
        }
      }
      if (digest) {
        const after = await state.digest();
        const changed = Object.keys(after).filter((table) => after[table] !== digest[table]);
        if (changed.length > 0) throw new Error(`${what} was refused (${res.status}) but changed ${changed.join(', ')}`);
        unchangedSince = after;
      }
    }

    const examples = fixedCases(world, routes);
    await fc.assert(fc.asyncProperty(caseArbitrary(world, routes), check), {
      seed: SEED,
      numRuns: examples.length + RANDOM_RUNS,
      examples,
      ...(REPLAY_PATH ? { path: REPLAY_PATH } : {}),
    });
    if (REPLAY_PATH) return;

    expect(cases).toBe(examples.length + RANDOM_RUNS);
    // the issue asks for 1,000 cases in CI at least
    if (process.env.ISO_RUNS === undefined) expect(cases).toBeGreaterThanOrEqual(1_000);
    for (const route of routes) {
      // the answers each route can give, every one of which the run must have seen
      const { access, bodyTenant } = ROUTE_POLICIES[route.key];
      const expected = new Set<Outcome>(['allowed']);
      if (access !== 'public') expected.add('401');
      if (access === 'platform' || access === 'tenant-admin' || (access !== 'public' && isWrite(route.method))) expected.add('403');
      if (route.params.length > 0 || bodyTenant) expected.add('404');
      expect({ route: route.key, seen: [...seen.get(route.key)!].sort() }).toEqual({ route: route.key, seen: [...expected].sort() });
    }
    const untouched = TENANTS.filter((t) => !touched.has(t));
    expect(untouched).toContain('vault');
    for (const tenant of untouched) {
      const now = await state.ofTenant(world.tenants[tenant].id, workspacesOf(tenant));
      expect({ tenant, state: now }).toEqual({ tenant, state: before[TENANTS.indexOf(tenant)] });
    }
    process.stdout.write(`isolation: ${cases} cases, seed ${SEED}; unchanged as never reached by an allowed write: ${untouched.join(', ')}\n`);
  }, 600_000);
});

/** The answer against the verdict: the outcome it was, or an error naming the case. */
function judge(res: HttpResult, verdict: Verdict, what: string): Outcome {
  const code = (res.body as Partial<ApiErrorBody> | undefined)?.error?.code;
  if (verdict.outcome === 'allowed') {
    if (res.status >= 500 || [401, 403, 404, 429].includes(res.status))
      throw new Error(`${what}: expected access, got ${res.status} ${res.text.slice(0, 300)}`);
    return 'allowed';
  }
  if (res.status !== verdict.status || !verdict.codes.some((c) => c === code)) {
    throw new Error(`${what}: expected ${verdict.status} ${verdict.codes.join(' or ')}, got ${res.status} ${res.text.slice(0, 300)}`);
  }
  return String(verdict.status) as Outcome;
}

/** Status, code and message of an error answer, the id it was asked about masked. */
function errorShape(res: HttpResult, id: string) {
  const error = (res.body as Partial<ApiErrorBody> | undefined)?.error;
  return { status: res.status, code: error?.code, message: error?.message.split(id).join('<id>') };
}

function describeRefs(refs: readonly ResourceRef[]): string {
  if (refs.length === 0) return 'nothing';
  const one = (r: ResourceRef) => (r.owner === null ? 'missing' : `of ${r.owner}${r.deleted ? ' (deleted)' : ''}${r.inParent ? '' : ' (elsewhere)'}`);
  return refs.map((r) => `${r.kind} ${one(r)}`).join(' / ');
}

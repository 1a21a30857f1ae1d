import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { RequestOptions } from './api-harness.js';
import { type Actor, isWrite, paramKind, type ResourceKind, type ResourceRef, ROUTE_POLICIES, TENANTS, type TenantName } from './isolation-model.js';
import { type IsolationWorld, record } from './isolation-world.js';

/**
 * The isolation property's cases: what fast-check draws (in the world's terms, so a seed replays the
 * same requests against a world with other ids), and how a case becomes a request.
 */

/** A documented route: `key` is `METHOD /path` as in the OpenAPI document. */
export interface Route {
  key: string;
  method: string;
  path: string;
  params: string[];
}

/** Every route of an OpenAPI document. */
export function routesOf(document: { paths: Record<string, Record<string, unknown>> }): Route[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
    })),
  );
}

/** One drawn request; resolved to ids for the caller at hand. */
export interface Case {
  route: string;
  actor: string;
  /** Whose resource the request names: the caller's tenant's, another tenant's, or one that does not exist. */
  target: 'own' | 'other' | 'missing';
  /** For a token or an entity: in the tenant or workspace the path names, in another one, or missing. */
  child: 'same' | 'other' | 'missing';
  /** Which tenant, when there is a choice (the platform admin's target, another tenant). */
  tenantPick: number;
  /** Which of the tenant's workspaces, jobs, tokens or entities (the first of each is the world's odd one out). */
  pick: number;
  missingId: string;
  /** POST /v1/ai/jobs/extract: leave tenantId out (a tenant token's own tenant is meant). */
  omitBodyTenant: boolean;
}

/** A case as ids: path parameter values, the resources named (in the oracle's order) and the body's tenant. */
export interface Resolved {
  values: Record<string, string>;
  refs: ResourceRef[];
  bodyTenantId: string | undefined;
}

/** Cases over every route and actor, weighted towards the callers that get past the guard. */
export function caseArbitrary(world: IsolationWorld, routes: Route[]): fc.Arbitrary<Case> {
  const weight = (actor: Actor) => (actor.kind === 'admin' || actor.kind === 'platform' ? 4 : actor.kind === 'read' ? 2 : 1);
  return fc.record({
    route: fc.constantFrom(...routes.map((r) => r.key)),
    actor: fc.oneof(...world.actors.map((a) => ({ arbitrary: fc.constant(a.name), weight: weight(a) }))),
    target: fc.oneof(
      { arbitrary: fc.constant('own' as const), weight: 3 },
      { arbitrary: fc.constant('other' as const), weight: 2 },
      { arbitrary: fc.constant('missing' as const), weight: 1 },
    ),
    child: fc.oneof(
      { arbitrary: fc.constant('same' as const), weight: 3 },
      { arbitrary: fc.constant('other' as const), weight: 1 },
      { arbitrary: fc.constant('missing' as const), weight: 1 },
    ),
    tenantPick: fc.nat({ max: 99 }),
    pick: fc.oneof(fc.constant(0), fc.nat({ max: 99 })),
    missingId: fc.uuid(),
    omitBodyTenant: fc.boolean(),
  });
}

/**
 * Fixed cases run before the drawn ones, so that every route meets every kind of caller and answer
 * whatever the seed: a's, b's and the vault's tokens and the platform admin on their own resources,
 * b's admin token on each of a's workspaces and jobs (moved in, with an active job, with failed
 * records, deleted), former's job in the workspace it gave a, missing resources, a token or entity
 * from elsewhere inside one's own tenant or workspace, and no token.
 */
export function fixedCases(world: IsolationWorld, routes: Route[]): [Case][] {
  const { a } = world.tenants;
  const statesOfA = Math.max(a.workspaces.length, a.backfills.length, a.aiJobs.length, a.deletions.length);
  const example = (route: string, actor: string, target: Case['target'], child: Case['child'], tenantPick = 0, pick = 0): [Case] => [
    { route, actor, target, child, tenantPick, pick, missingId: '00000000-0000-4000-8000-000000000000', omitBodyTenant: false },
  ];
  return routes.flatMap((r) => [
    example(r.key, 'a admin token', 'own', 'same'),
    example(r.key, 'platform', 'own', 'same'),
    example(r.key, 'a read token', 'own', 'same'),
    example(r.key, 'vault read token', 'own', 'same'),
    ...Array.from({ length: statesOfA }, (_, pick) => example(r.key, 'b admin token', 'other', 'same', 0, pick)),
    example(r.key, 'former admin token', 'own', 'same'),
    // a's token naming former's job (tenantPick 1: former among a's others)
    example(r.key, 'a admin token', 'other', 'same', 1),
    example(r.key, 'a admin token', 'missing', 'same'),
    example(r.key, 'platform', 'missing', 'same'),
    example(r.key, 'b admin token', 'own', 'other'),
    example(r.key, 'platform', 'own', 'other'),
    example(r.key, 'no token', 'own', 'same'),
  ]);
}

/** The tenant a case names: for the platform admin any tenant, but never the vault for a write. */
function targetTenant(actor: Actor, route: Route, c: Case): TenantName | null {
  if (c.target === 'missing') return null;
  const own = actor.kind === 'platform' ? null : actor.tenant;
  const candidates =
    own === null
      ? TENANTS.filter((t) => !(t === 'vault' && actor.kind === 'platform' && isWrite(route.method)))
      : c.target === 'own'
        ? [own]
        : TENANTS.filter((t) => t !== own);
  return candidates[c.tenantPick % candidates.length];
}

/** The ids a case names for `actor`: resources in path order, then a tenant named in the body. */
export function resolveCase(world: IsolationWorld, route: Route, actor: Actor, c: Case): Resolved {
  const tenant = targetTenant(actor, route, c);
  const values: Record<string, string> = {};
  const refs: ResourceRef[] = [];
  const pick = <T>(items: readonly T[]) => items[c.pick % items.length];
  let parent: ResourceRef | undefined;
  for (const param of route.params) {
    const kind = paramKind(route.path, param);
    if (kind === 'externalId') {
      const workspace = TENANTS.flatMap((t) => world.tenants[t].workspaces).find((w) => w.id === parent?.id);
      values[param] = !workspace ? 'kept-nowhere' : route.path.includes('/tombstones/') ? workspace.deletedRecord : workspace.keptRecord;
      continue;
    }
    if (kind === 'settingKey') {
      values[param] = route.path.endsWith('/validate') ? 'OPENAI_API_KEY' : 'GRAPHRAG_PROVIDER';
      continue;
    }
    let ref: ResourceRef;
    if (kind === 'token' || kind === 'webhook' || kind === 'entity') ref = childRef(world, kind, parent!, c);
    else if (tenant === null) ref = missing(kind, c.missingId);
    else if (kind === 'workspace') {
      const workspace = pick(world.tenants[tenant].workspaces);
      ref = { kind, id: workspace.id, owner: tenant, deleted: workspace.deleted, inParent: true };
    } else {
      const data = world.tenants[tenant];
      ref = {
        kind,
        id: pick({ tenant: [data.id], backfill: data.backfills, aiJob: data.aiJobs, deletion: data.deletions }[kind]),
        owner: tenant,
        deleted: false,
        inParent: true,
      };
    }
    values[param] = ref.id;
    refs.push(ref);
    parent ??= ref;
  }
  let bodyTenantId: string | undefined;
  if (ROUTE_POLICIES[route.key].bodyTenant && !c.omitBodyTenant) {
    const ref: ResourceRef =
      tenant === null
        ? missing('tenant', c.missingId)
        : { kind: 'tenant', id: world.tenants[tenant].id, owner: tenant, deleted: false, inParent: true };
    bodyTenantId = ref.id;
    refs.push(ref);
  }
  return { values, refs, bodyTenantId };
}

function missing(kind: ResourceKind, id: string): ResourceRef {
  return { kind, id, owner: null, deleted: false, inParent: true };
}

/** A token or webhook of (an entity in) the parent, of another tenant (in another workspace), or a missing one. */
function childRef(world: IsolationWorld, kind: 'token' | 'webhook' | 'entity', parent: ResourceRef, c: Case): ResourceRef {
  if (c.child === 'missing') return missing(kind, randomUUID());
  const all = TENANTS.flatMap((t) =>
    kind === 'entity'
      ? world.tenants[t].workspaces.map((w) => ({ id: w.entityId, owner: t, parentId: w.id }))
      : (kind === 'token' ? world.tenants[t].tokenIds : world.tenants[t].webhookIds).map((id) => ({ id, owner: t, parentId: world.tenants[t].id })),
  );
  const candidates = all.filter((o) => (c.child === 'same') === (o.parentId === parent.id));
  // a parent that does not exist has nothing in it: another's child stands in
  const from = candidates.length > 0 ? candidates : all;
  const chosen = from[c.pick % from.length];
  return { kind, id: chosen.id, owner: chosen.owner, deleted: false, inParent: chosen.parentId === parent.id };
}

/**
 * Allowed writes that would use the world up (a deletion, a revocation) get disposable resources of
 * the same owner; the others act on the world itself, which stays usable.
 */
export async function prepareAllowedWrite(world: IsolationWorld, route: Route, target: Resolved): Promise<void> {
  const owner = target.refs[0]?.owner;
  if (!owner) return;
  const { values } = target;
  switch (route.key) {
    case 'DELETE /v1/workspaces/{workspaceId}':
      // a deleted one is asked again (the deletion resumes), a live one would be gone for good
      if (!target.refs[0].deleted) values.workspaceId = await world.freshWorkspace(owner);
      return;
    case 'POST /v1/workspaces/{workspaceId}/backfills':
    case 'POST /v1/workspaces/{workspaceId}/transfer':
      values.workspaceId = await world.freshWorkspace(owner);
      return;
    case 'POST /v1/backfills/{jobId}/cancel':
      values.jobId = await world.freshActiveBackfill(owner);
      return;
    case 'DELETE /v1/tenants/{tenantId}/tokens/{tokenId}':
    case 'POST /v1/tenants/{tenantId}/tokens/{tokenId}/rotate':
      values.tokenId = await world.freshToken(owner);
      return;
    case 'DELETE /v1/workspaces/{workspaceId}/imap-source':
      values.workspaceId = await world.freshWorkspace(owner, { mailbox: true });
      return;
    case 'DELETE /v1/tenants/{tenantId}/webhooks/{endpointId}':
      values.endpointId = await world.freshWebhook(owner);
      return;
    case 'DELETE /v1/tenants/{tenantId}/settings/{key}':
      await world.resetSetting(owner, values.key);
      return;
    case 'DELETE /v1/workspaces/{workspaceId}/records/{externalId}':
      values.externalId = await world.freshRecord(owner, values.workspaceId);
      return;
    case 'DELETE /v1/workspaces/{workspaceId}/tombstones/{externalId}':
      values.externalId = await world.freshTombstone(owner, values.workspaceId);
      return;
  }
}

const MBOX = 'From sender@example.test Tue Jan  7 10:00:00 2025\nFrom: a@example.test\nTo: b@example.test\nSubject: Hi\n\nAlice met Bob\n';

/** A body that passes validation, so that a refusal can only be about access. */
export function bodyOf(world: IsolationWorld, route: Route, target: Resolved): Pick<RequestOptions, 'body' | 'raw'> {
  switch (route.key) {
    case 'POST /v1/tenants':
      return { body: { subdomain: `iso-new-${randomBytes(5).toString('hex')}`, planType: 'team', aiKeyMode: 'byok' } };
    case 'POST /v1/tenants/{tenantId}/workspaces':
      return { body: { name: 'Isolation' } };
    case 'POST /v1/tenants/{tenantId}/tokens':
      return { body: { name: 'isolation', scope: 'read', expiresInDays: 1 } };
    case 'PUT /v1/tenants/{tenantId}/settings/{key}':
      return { body: { value: 'openai' } };
    case 'PUT /v1/tenants/{tenantId}/budget':
      return { body: { monthlyLimitUsd: 1_000, mode: 'alert' } };
    case 'POST /v1/tenants/{tenantId}/webhooks':
      return { body: { url: 'https://hooks.example.test/isolation', events: ['key.invalid'] } };
    case 'PATCH /v1/tenants/{tenantId}/webhooks/{endpointId}':
      return { body: { description: 'isolation' } };
    case 'POST /v1/workspaces/{workspaceId}/records':
      return { body: [record('uploaded')] };
    case 'POST /v1/workspaces/{workspaceId}/imports/mbox':
      return { raw: { data: MBOX, contentType: 'application/mbox' } };
    case 'POST /v1/workspaces/{workspaceId}/transfer':
      return { body: { tenantId: world.sinkTenantId } };
    case 'PUT /v1/workspaces/{workspaceId}/imap-source':
      return { body: world.mailboxBody() };
    case 'POST /v1/ai/jobs/extract':
      return { body: { text: 'Alice met Bob', ...(target.bodyTenantId ? { tenantId: target.bodyTenantId } : {}) } };
  }
  return isWrite(route.method) && route.method !== 'DELETE' ? { body: {} } : {};
}

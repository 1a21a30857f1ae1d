import { ErrorCode } from '#libs/common';

/**
 * The access model the isolation property holds the API to: who may call each documented route,
 * what its path (or body) names, and from those the one class of answer a request must get. It is
 * written from docs/DESIGN.md ("Access", "HTTP API") and the README's "Tokens", not from the guard,
 * so that the two can disagree.
 */

/** The world's tenants. `vault` has no working admin token and the platform admin never writes to it. */
export const TENANTS = ['a', 'b', 'former', 'vault'] as const;
export type TenantName = (typeof TENANTS)[number];

/** How a request authenticates (or fails to). */
export type ActorKind = 'admin' | 'read' | 'expired' | 'revoked' | 'rotated' | 'platform' | 'none' | 'unknown' | 'malformed';

/** A caller of the property: `tenant` is the token's tenant (null for the platform admin and for no token at all). */
export interface Actor {
  name: string;
  kind: ActorKind;
  tenant: TenantName | null;
}

/** Tokens that authenticate; every other kind answers 401 wherever a token is needed. */
const VALID_KINDS: readonly ActorKind[] = ['admin', 'read', 'platform'];

/**
 * Who may call a route. `tenant`: the platform admin, or a token of the tenant that owns what the
 * route names (a read-scope token for GET only); `tenant-admin`: the same, but no read-scope token
 * even for GET; `platform`: the platform admin alone (403 FORBIDDEN for tenant tokens); `caller`:
 * any valid token, about itself; `public`: anyone, with or without a token.
 */
type Access = 'public' | 'platform' | 'caller' | 'tenant' | 'tenant-admin';

interface RoutePolicy {
  access: Access;
  /** The route names a tenant in its JSON body (`tenantId`), not in its path. */
  bodyTenant?: boolean;
  /** The route still answers its owner for a workspace whose deletion was asked for (a second DELETE resumes the deletion). */
  reachesDeletedWorkspace?: boolean;
}

/**
 * Every route of the OpenAPI document, `METHOD /path` as documented. A documented route missing
 * here fails the test: a new route needs its expectation written down before it is covered.
 */
export const ROUTE_POLICIES: Readonly<Record<string, RoutePolicy>> = {
  'GET /health': { access: 'public' },
  'GET /metrics': { access: 'platform' },
  'GET /v1/me': { access: 'caller' },
  'POST /v1/tenants': { access: 'platform' },
  'GET /v1/tenants': { access: 'platform' },
  'GET /v1/tenants/{tenantId}': { access: 'tenant' },
  'POST /v1/tenants/{tenantId}/workspaces': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/workspaces': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/settings': { access: 'tenant' },
  'PUT /v1/tenants/{tenantId}/settings/{key}': { access: 'tenant' },
  'DELETE /v1/tenants/{tenantId}/settings/{key}': { access: 'tenant' },
  'POST /v1/tenants/{tenantId}/settings/{key}/validate': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/audit': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/usage': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/budget': { access: 'tenant' },
  'PUT /v1/tenants/{tenantId}/budget': { access: 'tenant' },
  'DELETE /v1/tenants/{tenantId}/budget': { access: 'tenant' },
  'POST /v1/tenants/{tenantId}/tokens': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/tokens': { access: 'tenant-admin' },
  'DELETE /v1/tenants/{tenantId}/tokens/{tokenId}': { access: 'tenant' },
  'POST /v1/tenants/{tenantId}/tokens/{tokenId}/rotate': { access: 'tenant' },
  'POST /v1/tenants/{tenantId}/webhooks': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/webhooks': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/webhooks/{endpointId}': { access: 'tenant' },
  'PATCH /v1/tenants/{tenantId}/webhooks/{endpointId}': { access: 'tenant' },
  'DELETE /v1/tenants/{tenantId}/webhooks/{endpointId}': { access: 'tenant' },
  'POST /v1/tenants/{tenantId}/webhooks/{endpointId}/rotate-secret': { access: 'tenant' },
  'POST /v1/tenants/{tenantId}/webhooks/{endpointId}/test': { access: 'tenant' },
  'GET /v1/tenants/{tenantId}/webhooks/{endpointId}/deliveries': { access: 'tenant' },
  'POST /v1/workspaces/{workspaceId}/transfer': { access: 'platform' },
  'POST /v1/workspaces/{workspaceId}/records': { access: 'tenant' },
  'GET /v1/workspaces/{workspaceId}/records': { access: 'tenant' },
  'POST /v1/workspaces/{workspaceId}/imports/mbox': { access: 'tenant' },
  'DELETE /v1/workspaces/{workspaceId}/records/{externalId}': { access: 'tenant' },
  'DELETE /v1/workspaces/{workspaceId}/tombstones/{externalId}': { access: 'tenant' },
  'DELETE /v1/workspaces/{workspaceId}': { access: 'tenant', reachesDeletedWorkspace: true },
  'GET /v1/workspace-deletions/{jobId}': { access: 'tenant' },
  'GET /v1/workspaces/{workspaceId}/graph': { access: 'tenant' },
  'GET /v1/workspaces/{workspaceId}/graph/entities/{entityId}': { access: 'tenant' },
  'POST /v1/workspaces/{workspaceId}/backfills': { access: 'tenant' },
  'GET /v1/workspaces/{workspaceId}/backfills': { access: 'tenant' },
  'POST /v1/workspaces/{workspaceId}/backfills/estimate': { access: 'tenant' },
  'PUT /v1/workspaces/{workspaceId}/imap-source': { access: 'tenant' },
  'GET /v1/workspaces/{workspaceId}/imap-source': { access: 'tenant' },
  'DELETE /v1/workspaces/{workspaceId}/imap-source': { access: 'tenant' },
  'POST /v1/workspaces/{workspaceId}/imap-source/test': { access: 'tenant' },
  'GET /v1/backfills/{jobId}': { access: 'tenant' },
  'GET /v1/backfills/{jobId}/failures': { access: 'tenant' },
  'POST /v1/backfills/{jobId}/retry-failed': { access: 'tenant' },
  'POST /v1/backfills/{jobId}/cancel': { access: 'tenant' },
  'POST /v1/ai/jobs/extract': { access: 'tenant', bodyTenant: true },
  'GET /v1/ai/jobs/{jobId}': { access: 'tenant' },
};

/** What a tenant owns that a path can name; `token` and `webhook` live inside a tenant, `entity` inside a workspace. */
export type ResourceKind = 'tenant' | 'workspace' | 'backfill' | 'aiJob' | 'deletion' | 'token' | 'webhook' | 'entity';

/** The code each kind answers when it is missing, and (DESIGN, "Access") when it is another tenant's. */
const NOT_FOUND: Readonly<Record<ResourceKind, ErrorCode>> = {
  tenant: ErrorCode.TenantNotFound,
  workspace: ErrorCode.WorkspaceNotFound,
  backfill: ErrorCode.BackfillNotFound,
  aiJob: ErrorCode.AiJobNotFound,
  deletion: ErrorCode.WorkspaceDeletionNotFound,
  token: ErrorCode.TokenNotFound,
  webhook: ErrorCode.WebhookNotFound,
  entity: ErrorCode.NotFound,
};

/** A path parameter: a resource, or a name inside one (a record's externalId, a setting key) that the world fills in. */
export type ParamKind = ResourceKind | 'externalId' | 'settingKey';

/** What `{param}` of `path` names; a parameter the model does not know fails the test, so a new one gets a model. */
export function paramKind(path: string, param: string): ParamKind {
  const kinds: Record<string, ParamKind | undefined> = {
    tenantId: 'tenant',
    workspaceId: 'workspace',
    tokenId: 'token',
    endpointId: 'webhook',
    entityId: 'entity',
    externalId: 'externalId',
    key: 'settingKey',
    jobId: path.startsWith('/v1/backfills/')
      ? 'backfill'
      : path.startsWith('/v1/ai/jobs/')
        ? 'aiJob'
        : path.startsWith('/v1/workspace-deletions/')
          ? 'deletion'
          : undefined,
  };
  const kind = kinds[param];
  if (!kind) throw new Error(`The isolation model does not know what {${param}} of ${path} names: add it to paramKind`);
  return kind;
}

/** A resource a request names, as the world knows it. */
export interface ResourceRef {
  kind: ResourceKind;
  id: string;
  /** Its tenant; null when it does not exist. */
  owner: TenantName | null;
  /** A workspace whose deletion was asked for: it reads as not found. */
  deleted: boolean;
  /** A token, a webhook or an entity: whether it is in the tenant or workspace the path names before it. */
  inParent: boolean;
}

/** The class of answer a request must get. */
export type Verdict = { outcome: 'allowed' } | { outcome: 'refused'; status: 401 | 403 | 404; codes: ErrorCode[]; hidden?: ResourceRef };

/** Whether a method changes something (RFC 9110 section 9.2.1: not safe). */
export function isWrite(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/**
 * The oracle: the answer `actor` must get from `route` naming `refs` (path resources in path order,
 * then a tenant named in the body). In the guard's order: no valid token 401; a platform route 403
 * FORBIDDEN for tenant tokens; a read-scope token writing (or listing tokens) 403 TOKEN_READ_ONLY;
 * then any resource that is missing, deleted, another tenant's, or not inside the resource before it
 * 404, exactly as if it did not exist. `hidden` is that resource when it exists (the answer must equal
 * the one for a missing id). Anything else is allowed: 2xx, or a 4xx about the request's body or state.
 */
export function expectedVerdict(route: string, actor: Actor, refs: readonly ResourceRef[]): Verdict {
  const policy = ROUTE_POLICIES[route];
  if (policy.access === 'public') return { outcome: 'allowed' };
  if (!VALID_KINDS.includes(actor.kind)) return { outcome: 'refused', status: 401, codes: [ErrorCode.Unauthenticated] };
  if (policy.access === 'platform' && actor.kind !== 'platform') return { outcome: 'refused', status: 403, codes: [ErrorCode.Forbidden] };
  const method = route.split(' ')[0];
  if (actor.kind === 'read' && (isWrite(method) || policy.access === 'tenant-admin')) {
    return { outcome: 'refused', status: 403, codes: [ErrorCode.TokenReadOnly] };
  }
  // for the platform admin an unknown tenant may surface as the unknown thing inside it (a token of
  // no tenant is TOKEN_NOT_FOUND): any of the route's not-found codes is a faithful 404
  const codes = [...new Set(refs.map((ref) => NOT_FOUND[ref.kind]))];
  for (const ref of refs) {
    const reachable =
      ref.owner !== null &&
      ref.inParent &&
      (!ref.deleted || (policy.reachesDeletedWorkspace === true && ref === refs[0])) &&
      (actor.kind === 'platform' || ref.owner === actor.tenant);
    if (!reachable) return { outcome: 'refused', status: 404, codes, ...(ref.owner !== null ? { hidden: ref } : {}) };
  }
  return { outcome: 'allowed' };
}

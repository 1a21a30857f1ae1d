import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { TokenScope } from '#libs/database';
import { type RequestActor, USER_AGENT_MAX_CHARS } from '#libs/tenancy';
import { ApiAdminScope, ApiPlatformOnly } from '../http/api-errors.js';

/**
 * Who is calling: the platform admin (every tenant) or one tenant's admin (its own tenant only),
 * with the token's row id (tenant_tokens.id) and name for the audit log and its scope: an `admin`
 * token may do anything within its tenant, a `read` token only reads (safe methods, RFC 9110 9.2.1).
 */
export type Principal = { kind: 'platform' } | { kind: 'tenant'; tenantId: string; tokenId: string; tokenName: string; scope: TokenScope };

export type AuthenticatedRequest = Request & { principal?: Principal };

export const IS_PUBLIC = 'auth:public';
/** Marks a route that answers without a token (health, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const PLATFORM_ONLY = 'auth:platform-only';
/** Marks a route only the platform admin may call (and says so in the OpenAPI document). */
export const PlatformOnly = () => applyDecorators(SetMetadata(PLATFORM_ONLY, true), ApiPlatformOnly());

export const METRICS_READER = 'auth:metrics-reader';
/** Marks a platform-only route that the metrics token (METRICS_TOKEN) may read too: /metrics. */
export const MetricsReader = () => SetMetadata(METRICS_READER, true);

export const ADMIN_SCOPE = 'auth:admin-scope';
/** Marks a reading route that a tenant's read-scope token may not call (token management), in the guard and the document. */
export const AdminScope = () => applyDecorators(SetMetadata(ADMIN_SCOPE, true), ApiAdminScope());

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a public route');
  return principal;
});

/**
 * The caller of a changing route as the audit log records it: the principal, the socket address
 * (never X-Forwarded-For, which any client can write; the app trusts no proxy) and the User-Agent,
 * cut to 256 characters. Controllers pass it to the services explicitly.
 */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestActor => {
  const request = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  const principal = request.principal;
  if (!principal) throw new Error('CurrentActor used on a public route');
  const userAgent = request.headers['user-agent'];
  return {
    ...(principal.kind === 'platform'
      ? { kind: 'platform', tokenId: null, label: 'platform admin' }
      : { kind: 'tenant_token', tokenId: principal.tokenId, label: `token "${principal.tokenName}"` }),
    clientAddress: request.socket.remoteAddress ?? null,
    userAgent: typeof userAgent === 'string' && userAgent !== '' ? userAgent.slice(0, USER_AGENT_MAX_CHARS) : null,
  };
});

import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';

/** Who is calling: the platform admin (every tenant) or one tenant's admin (its own tenant only). */
export type Principal = { kind: 'platform' } | { kind: 'tenant'; tenantId: string };

export type AuthenticatedRequest = Request & { principal?: Principal };

export const IS_PUBLIC = 'auth:public';
/** Marks a route that answers without a token (health, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const PLATFORM_ONLY = 'auth:platform-only';
/** Marks a route only the platform admin may call. */
export const PlatformOnly = () => SetMetadata(PLATFORM_ONLY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a public route');
  return principal;
});

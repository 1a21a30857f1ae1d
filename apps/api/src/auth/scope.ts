import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { PLATFORM_SCOPE, tenantScope, type TenantScope } from '#libs/tenancy';
import type { AuthenticatedRequest, Principal } from './principal.js';

/** The data a principal may see: the platform admin every tenant's, a tenant token its own tenant's. */
export function scopeOf(principal: Principal): TenantScope {
  return principal.kind === 'platform' ? PLATFORM_SCOPE : tenantScope(principal.tenantId);
}

/**
 * The caller's TenantScope: the one access-check idiom of the controllers. A handler takes it and
 * passes it, first, to the service call that reads what the path (or body) names; that call answers
 * 404 for anything outside the scope, exactly as for what does not exist. No controller compares
 * tenant ids itself.
 */
export const CurrentScope = createParamDecorator((_: unknown, ctx: ExecutionContext): TenantScope => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentScope used on a public route');
  return scopeOf(principal);
});

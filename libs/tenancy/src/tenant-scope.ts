/**
 * Whose data a call may see: one tenant's (a tenant token) or every tenant's, the platform admin's
 * scope, named explicitly. Services take it instead of a nullable tenant id, so "any tenant" is
 * never what a forgotten or null argument means; repositories take the tenant id it settles on,
 * first, and put it in their WHERE.
 */
export type TenantScope = { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'platform' };

/** The platform admin's scope, and the job runtime's when it addresses a job by its id alone. */
export const PLATFORM_SCOPE: TenantScope = Object.freeze({ kind: 'platform' });

/** One tenant's scope. */
export function tenantScope(tenantId: string): TenantScope {
  return Object.freeze({ kind: 'tenant', tenantId });
}

/** Whether a call in `scope` may see a resource owned by `tenantId`. */
export function canSee(scope: TenantScope, tenantId: string): boolean {
  return scope.kind === 'platform' || scope.tenantId === tenantId;
}

/**
 * One row as a caller in `scope` addresses it by its id: `find` (a repository's scoped read, the
 * tenant id first and in its WHERE) runs with the scope's own tenant, or, in the platform scope,
 * with the row's owner as `ownerOf` finds it (a repository's `ownerOf`: the one read that is not
 * scoped, and it reads nothing but the owner's id). A tenant scope never calls `ownerOf`, so
 * another tenant's row is simply not found. Null when there is no such row in scope.
 */
export async function findInScope<T>(
  scope: TenantScope,
  ownerOf: () => Promise<string | null>,
  find: (tenantId: string) => Promise<T | null>,
): Promise<T | null> {
  const tenantId = scope.kind === 'tenant' ? scope.tenantId : await ownerOf();
  return tenantId === null ? null : find(tenantId);
}

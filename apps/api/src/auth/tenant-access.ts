import { TenantNotFoundError } from '#libs/tenancy';
import type { Principal } from './principal.js';

/**
 * A tenant admin sees only its own tenant. Another tenant's resources answer 404, exactly like
 * ones that do not exist, so tokens cannot probe which ids are real.
 */
export function assertTenantAccess(principal: Principal, tenantId: string): void {
  if (principal.kind === 'tenant' && principal.tenantId !== tenantId) throw new TenantNotFoundError(tenantId);
}

import { Injectable } from '@nestjs/common';
import { type ResolvedTenant, TenantResolver, WorkspaceNotFoundError } from '#libs/tenancy';
import type { Principal } from './principal.js';

/**
 * Resolves a workspace in a path to its tenant and checks the caller may see it. Another tenant's
 * workspace answers 404 exactly like a missing one.
 */
@Injectable()
export class WorkspaceAccess {
  constructor(private readonly tenants: TenantResolver) {}

  async resolve(principal: Principal, workspaceId: string): Promise<ResolvedTenant> {
    const resolved = await this.tenants.resolve(workspaceId);
    if (principal.kind === 'tenant' && principal.tenantId !== resolved.tenantId) throw new WorkspaceNotFoundError(workspaceId);
    return resolved;
  }
}

import { EXAMPLE } from '../http/example-values.js';
import type { TenantView, WorkspaceView } from './tenant.dto.js';

/** Example answers of the tenant and workspace routes (documentation only; checked against their views at load). */
export const tenantExample: TenantView = {
  id: EXAMPLE.tenantId,
  subdomain: 'brennan',
  planType: 'team',
  aiKeyMode: 'byok',
  createdAt: EXAMPLE.createdAt,
};

export const tenantPageExample = {
  items: [tenantExample, { ...tenantExample, id: EXAMPLE.otherTenantId, subdomain: 'brennan-eu', planType: 'enterprise' as const }],
  nextCursor: 'YnJlbm5hbi1ldQ',
};

export const workspaceExample: WorkspaceView = {
  id: EXAMPLE.workspaceId,
  tenantId: EXAMPLE.tenantId,
  name: 'Support inbox',
  createdAt: EXAMPLE.createdAt,
};

export const transferredWorkspaceExample: WorkspaceView = { ...workspaceExample, tenantId: EXAMPLE.otherTenantId };

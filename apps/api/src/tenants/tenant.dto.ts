import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import { AiKeyMode, PlanType, type Tenant, type Workspace } from '#libs/database';
import { pageLimit } from '../http/page-query.js';

export const createTenantBody = z.strictObject({
  subdomain: z
    .string({ error: 'subdomain must be a string' })
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { error: 'subdomain must be 1-63 lowercase letters, digits or inner hyphens' })
    .meta({ example: 'brennan', description: 'Lowercase letters, digits and inner hyphens' }),
  planType: z.enum(PlanType, { error: `planType must be one of ${Object.values(PlanType).join(', ')}` }),
  aiKeyMode: z
    .enum(AiKeyMode, { error: `aiKeyMode must be one of ${Object.values(AiKeyMode).join(', ')}` })
    .meta({ description: 'byok: the tenant brings its keys; managed: the platform key is used' }),
});
export type CreateTenantBody = z.output<typeof createTenantBody>;

export const createWorkspaceBody = z.strictObject({
  name: z
    .string({ error: 'name must be a string' })
    .min(1, { error: 'name must not be empty' })
    .max(200, { error: 'name must be at most 200 characters' })
    .meta({ example: 'Support inbox' }),
});
export type CreateWorkspaceBody = z.output<typeof createWorkspaceBody>;

export const transferWorkspaceBody = z.strictObject({
  tenantId: uuidSchema('tenantId must be a UUID'),
});
export type TransferWorkspaceBody = z.output<typeof transferWorkspaceBody>;

export const transferWorkspaceQuery = z.strictObject({
  cancelActive: z
    .enum(['true', 'false'], { error: 'cancelActive must be true or false' })
    .default('false')
    .transform((v) => v === 'true')
    .meta({ description: "Cancel the workspace's active backfills first instead of answering 409" }),
});
export type TransferWorkspaceQuery = z.output<typeof transferWorkspaceQuery>;

export const TENANT_PAGE_MAX_LIMIT = 200;

export const tenantListQuery = z.strictObject({
  cursor: z
    .string({ error: 'cursor must be a single string' })
    .max(128, { error: 'cursor is not one this API returned; start again without it' })
    .optional()
    .meta({ description: 'nextCursor of the previous page (opaque)' }),
  limit: pageLimit(TENANT_PAGE_MAX_LIMIT, 50, 'Tenants'),
  subdomain: z
    .string({ error: 'subdomain must be a single string' })
    .regex(/^[a-z0-9-]{1,63}$/, { error: 'subdomain must be 1-63 lowercase letters, digits or hyphens' })
    .optional()
    .meta({
      description: 'A prefix: only tenants whose subdomain starts with it (a whole subdomain matches itself and any longer one that starts with it)',
      example: 'bren',
    }),
});
export type TenantListQueryParams = z.output<typeof tenantListQuery>;

export const tenantView = z.object({
  id: uuidSchema(),
  subdomain: z.string(),
  planType: z.enum(PlanType),
  aiKeyMode: z.enum(AiKeyMode),
  createdAt: z.date(),
});
export type TenantView = z.output<typeof tenantView>;

export const tenantPageView = z.object({
  items: z.array(tenantView).meta({ description: 'In subdomain order' }),
  nextCursor: z.string().nullable().meta({ description: 'The cursor of the next page; null on the last one' }),
});

export function toTenantView(tenant: Tenant): TenantView {
  return { id: tenant.id, subdomain: tenant.subdomain, planType: tenant.planType, aiKeyMode: tenant.aiKeyMode, createdAt: tenant.createdAt };
}

export const workspaceView = z.object({ id: uuidSchema(), tenantId: uuidSchema(), name: z.string(), createdAt: z.date() });
export type WorkspaceView = z.output<typeof workspaceView>;

export function toWorkspaceView(workspace: Workspace): WorkspaceView {
  return { id: workspace.id, tenantId: workspace.tenantId, name: workspace.name, createdAt: workspace.createdAt };
}

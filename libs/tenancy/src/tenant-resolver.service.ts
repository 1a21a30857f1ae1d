import { Injectable, Logger } from '@nestjs/common';
import type { AiKeyMode, PlanType, Tenant } from '#libs/database';
import { CacheInvalidationBus, InvalidatedCache } from '#libs/redis';
import { TenantRepository } from './tenant.repository.js';
import { TenantNotFoundError, WorkspaceNotFoundError } from './tenancy.errors.js';
import { canSee, type TenantScope } from './tenant-scope.js';
import { WorkspaceRepository } from './workspace.repository.js';

export interface TenantInfo {
  tenantId: string;
  subdomain: string;
  planType: PlanType;
  aiKeyMode: AiKeyMode;
}

export interface ResolvedTenant extends TenantInfo {
  workspaceId: string;
}

const WORKSPACE_TENANT_TOPIC = 'workspace-tenant';
// nothing changes a tenant's plan or key mode yet; when something does, it invalidates on this topic
const TENANT_TOPIC = 'tenant';
const CACHE_OPTIONS = { max: 10_000, ttlMs: 60_000 };

/**
 * workspace_id -> tenant. The earlier system passed a workspace id where a tenant id belonged and
 * fell back to it when the lookup failed; here an unknown workspace is always an error.
 */
@Injectable()
export class TenantResolver {
  private readonly logger = new Logger(TenantResolver.name);
  private readonly tenantOfWorkspace: InvalidatedCache<string>;
  private readonly tenants: InvalidatedCache<TenantInfo>;

  constructor(
    private readonly workspaces: WorkspaceRepository,
    private readonly tenantRepository: TenantRepository,
    bus: CacheInvalidationBus,
  ) {
    this.tenantOfWorkspace = new InvalidatedCache(bus, WORKSPACE_TENANT_TOPIC, CACHE_OPTIONS);
    this.tenants = new InvalidatedCache(bus, TENANT_TOPIC, CACHE_OPTIONS);
  }

  /**
   * The tenant that owns a workspace, cached until the workspace moves (every process hears of it).
   * @throws WorkspaceNotFoundError for an unknown or malformed id
   */
  async resolve(workspaceId: string): Promise<ResolvedTenant> {
    const tenantId = await this.tenantOfWorkspace.get(workspaceId, () => this.loadWorkspace(workspaceId));
    if (!tenantId) throw new WorkspaceNotFoundError(workspaceId);
    return { workspaceId, ...(await this.tenant(tenantId)) };
  }

  /**
   * A workspace's owner as a caller in `scope` addresses it: another tenant's workspace answers
   * exactly like a missing one (404), so a token cannot probe which ids are real.
   * @throws WorkspaceNotFoundError
   */
  async resolveIn(scope: TenantScope, workspaceId: string): Promise<ResolvedTenant> {
    const resolved = await this.resolve(workspaceId);
    if (!canSee(scope, resolved.tenantId)) throw new WorkspaceNotFoundError(workspaceId);
    return resolved;
  }

  /**
   * A tenant's identity and key mode by id, cached like `resolve`.
   * @throws TenantNotFoundError
   */
  async tenant(tenantId: string): Promise<TenantInfo> {
    const info = await this.tenants.get(tenantId, async () => {
      const tenant = await this.tenantRepository.findById(tenantId);
      return tenant ? toInfo(tenant) : null;
    });
    if (!info) throw new TenantNotFoundError(tenantId);
    return info;
  }

  /** One query serves both caches: the workspace's tenant id and the tenant itself. */
  private async loadWorkspace(workspaceId: string): Promise<string | null> {
    const workspace = await this.workspaces.findWithTenant(workspaceId);
    if (!workspace) return null;
    const info = toInfo(workspace.tenant);
    this.tenants.set(info.tenantId, info);
    this.logger.debug({ workspaceId, tenantId: info.tenantId }, 'Resolved tenant_id from workspace_id');
    return info.tenantId;
  }

  /** Drops a workspace's entry in every process (after it moved to another tenant). */
  invalidateWorkspace(workspaceId: string): Promise<void> {
    return this.tenantOfWorkspace.invalidate(workspaceId);
  }
}

function toInfo(tenant: Tenant): TenantInfo {
  return { tenantId: tenant.id, subdomain: tenant.subdomain, planType: tenant.planType, aiKeyMode: tenant.aiKeyMode };
}

import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { AiKeyMode, PlanType, Tenant } from '#libs/database';
import { CacheInvalidationBus } from '#libs/redis';
import { TenantRepository } from './tenant.repository.js';
import { TenantNotFoundError, WorkspaceNotFoundError } from './tenancy.errors.js';
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

export const WORKSPACE_TENANT_TOPIC = 'workspace-tenant';
export const TENANT_TOPIC = 'tenant';

const CACHE_OPTIONS = { max: 10_000, ttl: 60_000 };

/**
 * workspace_id -> tenant. The earlier system passed a workspace id where a tenant id belonged and
 * fell back to it when the lookup failed; here an unknown workspace is always an error.
 */
@Injectable()
export class TenantResolver implements OnModuleInit {
  private readonly logger = new Logger(TenantResolver.name);
  private readonly tenantOfWorkspace = new LRUCache<string, string>(CACHE_OPTIONS);
  private readonly tenants = new LRUCache<string, TenantInfo>(CACHE_OPTIONS);
  // bumped by every invalidation: a lookup that raced one must not cache what it read
  private generation = 0;

  constructor(
    private readonly workspaces: WorkspaceRepository,
    private readonly tenantRepository: TenantRepository,
    private readonly bus: CacheInvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(WORKSPACE_TENANT_TOPIC, (workspaceId) => {
      this.generation++;
      this.tenantOfWorkspace.delete(workspaceId);
    });
    this.bus.on(TENANT_TOPIC, (tenantId) => {
      this.generation++;
      this.tenants.delete(tenantId);
    });
  }

  async resolve(workspaceId: string): Promise<ResolvedTenant> {
    const tenantId = this.tenantOfWorkspace.get(workspaceId);
    const tenant = tenantId && this.tenants.get(tenantId);
    if (tenant) return { workspaceId, ...tenant };

    const generation = this.generation;
    const workspace = await this.workspaces.findWithTenant(workspaceId);
    if (!workspace) throw new WorkspaceNotFoundError(workspaceId);
    const info = toInfo(workspace.tenant);
    if (generation === this.generation) {
      this.tenantOfWorkspace.set(workspaceId, info.tenantId);
      this.tenants.set(info.tenantId, info);
    }
    this.logger.debug({ workspaceId, tenantId: info.tenantId }, 'Resolved tenant_id from workspace_id');
    return { workspaceId, ...info };
  }

  /** A tenant's identity and key mode by id, cached like `resolve`. */
  async tenant(tenantId: string): Promise<TenantInfo> {
    const cached = this.tenants.get(tenantId);
    if (cached) return cached;
    const generation = this.generation;
    const tenant = await this.tenantRepository.findById(tenantId);
    if (!tenant) throw new TenantNotFoundError(tenantId);
    const info = toInfo(tenant);
    if (generation === this.generation) this.tenants.set(tenantId, info);
    return info;
  }

  /** Drops a workspace's entry in every process. */
  invalidateWorkspace(workspaceId: string): Promise<void> {
    return this.bus.publish(WORKSPACE_TENANT_TOPIC, workspaceId);
  }

  invalidateTenant(tenantId: string): Promise<void> {
    return this.bus.publish(TENANT_TOPIC, tenantId);
  }
}

function toInfo(tenant: Tenant): TenantInfo {
  return { tenantId: tenant.id, subdomain: tenant.subdomain, planType: tenant.planType, aiKeyMode: tenant.aiKeyMode };
}

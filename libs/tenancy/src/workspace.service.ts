import { Injectable } from '@nestjs/common';
import type { Workspace } from '#libs/database';
import { TenantResolver } from './tenant-resolver.service.js';
import { TenantService } from './tenant.service.js';
import { WorkspaceNotFoundError } from './tenancy.errors.js';
import { WorkspaceRepository } from './workspace.repository.js';

@Injectable()
export class WorkspaceService {
  constructor(
    private readonly workspaces: WorkspaceRepository,
    private readonly tenants: TenantService,
    private readonly resolver: TenantResolver,
  ) {}

  async create(tenantId: string, name: string): Promise<Workspace> {
    await this.tenants.get(tenantId);
    return this.workspaces.create(tenantId, name);
  }

  async list(tenantId: string): Promise<Workspace[]> {
    await this.tenants.get(tenantId);
    return this.workspaces.listByTenant(tenantId);
  }

  /** Moves a workspace (and so its data and key) to another tenant; every cache hears of it. */
  async transfer(workspaceId: string, toTenantId: string): Promise<Workspace> {
    await this.tenants.get(toTenantId);
    const moved = await this.workspaces.moveToTenant(workspaceId, toTenantId);
    if (!moved) throw new WorkspaceNotFoundError(workspaceId);
    await this.resolver.invalidateWorkspace(workspaceId);
    return moved;
  }
}

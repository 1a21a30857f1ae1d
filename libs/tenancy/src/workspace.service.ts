import { Injectable } from '@nestjs/common';
import { TransactionService, type Tx, type Workspace } from '#libs/database';
import { AuditLog } from './audit-log.service.js';
import type { RequestActor } from './request-actor.js';
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
    private readonly transactions: TransactionService,
    private readonly audit: AuditLog,
  ) {}

  async create(tenantId: string, name: string): Promise<Workspace> {
    await this.tenants.get(tenantId);
    return this.workspaces.create(tenantId, name);
  }

  async list(tenantId: string): Promise<Workspace[]> {
    await this.tenants.get(tenantId);
    return this.workspaces.listByTenant(tenantId);
  }

  /**
   * Moves a workspace (and so its data and key) to another tenant; every cache hears of it. With an
   * `actor` (every API call), a real move appends `workspace.transfer` to the audit log of both the
   * previous and the new owner, in the transaction that moves it (the row is locked, so the previous
   * owner is the one really replaced).
   * @throws TenantNotFoundError, WorkspaceNotFoundError
   */
  async transfer(workspaceId: string, toTenantId: string, actor?: RequestActor): Promise<Workspace> {
    await this.tenants.get(toTenantId);
    const moved = await this.transactions.run(async (tx) => {
      const previous = await this.workspaces.lockLive(tx, workspaceId);
      if (!previous) return null;
      const row = await this.workspaces.moveToTenant(workspaceId, toTenantId, tx);
      if (row && actor && previous.tenantId !== toTenantId) {
        const details = { workspaceId, fromTenantId: previous.tenantId, toTenantId };
        for (const tenantId of [previous.tenantId, toTenantId])
          await this.audit.record(tenantId, actor, { action: 'workspace.transfer', details }, tx);
      }
      return row;
    });
    if (!moved) throw new WorkspaceNotFoundError(workspaceId);
    await this.resolver.invalidateWorkspace(workspaceId);
    return moved;
  }

  /**
   * Locks a live workspace's row exclusively for the caller's transaction (see WorkspaceRepository.lockLive).
   * @throws WorkspaceNotFoundError when it does not exist or is being deleted
   */
  async lockLive(tx: Tx, workspaceId: string): Promise<{ id: string; tenantId: string }> {
    const workspace = await this.workspaces.lockLive(tx, workspaceId);
    if (!workspace) throw new WorkspaceNotFoundError(workspaceId);
    return workspace;
  }

  /** A workspace row whether or not its deletion was asked for (null when there is none): for deletions only. */
  findIncludingDeleted(workspaceId: string): Promise<Workspace | null> {
    return this.workspaces.findIncludingDeleted(workspaceId);
  }

  /** Marks a workspace deleted inside the caller's transaction; call `forget` once it committed. */
  markDeleted(tx: Tx, workspaceId: string): Promise<void> {
    return this.workspaces.markDeleted(tx, workspaceId);
  }

  /** Every process's tenant cache drops the workspace, which reads as not found from then on. */
  forget(workspaceId: string): Promise<void> {
    return this.resolver.invalidateWorkspace(workspaceId);
  }

  /** Deletes a deleted workspace's own row (the last step of its deletion job); 0 when it is already gone. */
  deleteRow(tx: Tx, workspaceId: string): Promise<number> {
    return this.workspaces.deleteRow(tx, workspaceId);
  }
}

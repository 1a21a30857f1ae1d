import { Injectable } from '@nestjs/common';
import { TransactionService, type Tx, type Workspace } from '#libs/database';
import { AuditLog } from './audit-log.service.js';
import type { RequestActor } from './request-actor.js';
import { TenantResolver } from './tenant-resolver.service.js';
import { TenantService } from './tenant.service.js';
import { WorkspaceNotFoundError } from './tenancy.errors.js';
import { findInScope, type TenantScope } from './tenant-scope.js';
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

  /**
   * A new workspace of a tenant the caller in `scope` may see.
   * @throws TenantNotFoundError (missing, or another tenant's)
   */
  async create(scope: TenantScope, tenantId: string, name: string): Promise<Workspace> {
    await this.tenants.getIn(scope, tenantId);
    return this.workspaces.create(tenantId, name);
  }

  /**
   * A tenant's live workspaces, oldest first.
   * @throws TenantNotFoundError (missing, or another tenant's)
   */
  async list(scope: TenantScope, tenantId: string): Promise<Workspace[]> {
    await this.tenants.getIn(scope, tenantId);
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
      const previous = await this.workspaces.lockLiveAnyTenant(tx, workspaceId);
      if (!previous) return null;
      const row = await this.workspaces.moveToTenant(tx, previous.tenantId, workspaceId, toTenantId);
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
   * Locks a live workspace of `tenantId` exclusively for the caller's transaction (see WorkspaceRepository.lockLive).
   * @throws WorkspaceNotFoundError when it does not exist, is being deleted or is no longer the tenant's
   */
  async lockLive(tx: Tx, tenantId: string, workspaceId: string): Promise<{ id: string; tenantId: string }> {
    const workspace = await this.workspaces.lockLive(tx, tenantId, workspaceId);
    if (!workspace) throw new WorkspaceNotFoundError(workspaceId);
    return workspace;
  }

  /**
   * A workspace row as a caller in `scope` addresses it, whether or not its deletion was asked for
   * (null when there is none, or it is another tenant's): for deletions only.
   */
  async findIncludingDeleted(scope: TenantScope, workspaceId: string): Promise<Workspace | null> {
    return findInScope(
      scope,
      () => this.workspaces.ownerOf(workspaceId),
      (tenantId) => this.workspaces.findIncludingDeleted(tenantId, workspaceId),
    );
  }

  /** Marks a workspace of `tenantId` deleted inside the caller's transaction; call `forget` once it committed. */
  markDeleted(tx: Tx, tenantId: string, workspaceId: string): Promise<void> {
    return this.workspaces.markDeleted(tx, tenantId, workspaceId);
  }

  /** Every process's tenant cache drops the workspace, which reads as not found from then on. */
  forget(workspaceId: string): Promise<void> {
    return this.resolver.invalidateWorkspace(workspaceId);
  }

  /** Deletes a deleted workspace's own row (the last step of its deletion job); 0 when it is already gone. */
  deleteRow(tx: Tx, tenantId: string, workspaceId: string): Promise<number> {
    return this.workspaces.deleteRow(tx, tenantId, workspaceId);
  }
}

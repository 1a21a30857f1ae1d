import { Injectable } from '@nestjs/common';
import { isUuid } from '#libs/common';
import { PrismaService, type Tenant, type Tx, type Workspace } from '#libs/database';

@Injectable()
export class WorkspaceRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(tenantId: string, name: string): Promise<Workspace> {
    return this.prisma.workspace.create({ data: { tenantId, name } });
  }

  listByTenant(tenantId: string): Promise<Workspace[]> {
    return this.prisma.workspace.findMany({ where: { tenantId, deletedAt: null }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** The one unscoped lookup: it is how a workspace id becomes a tenant in the first place. A deleted workspace is not found. */
  async findWithTenant(workspaceId: string): Promise<(Workspace & { tenant: Tenant }) | null> {
    if (!isUuid(workspaceId)) return null;
    return this.prisma.workspace.findUnique({ where: { id: workspaceId, deletedAt: null }, include: { tenant: true } });
  }

  /**
   * Locks a live (not deleted) workspace of `tenantId` for the rest of the caller's transaction,
   * exclusively: record inserts (their foreign-key check) and backfill pages (their fence) wait until
   * it ends. Null when there is none (missing, deleted, or another tenant's: moved meanwhile).
   */
  async lockLive(tx: Tx, tenantId: string, workspaceId: string): Promise<{ id: string; tenantId: string } | null> {
    if (!isUuid(workspaceId)) return null;
    const rows = await tx.$queryRaw<{ id: string; tenant_id: string }[]>`
      SELECT id, tenant_id FROM workspaces WHERE id = ${workspaceId}::uuid AND tenant_id = ${tenantId}::uuid AND deleted_at IS NULL FOR UPDATE`;
    return rows[0] ? { id: rows[0].id, tenantId: rows[0].tenant_id } : null;
  }

  /** As `lockLive`, whoever owns it: for a transfer only (the platform admin's), which must read the owner it replaces under the lock. */
  async lockLiveAnyTenant(tx: Tx, workspaceId: string): Promise<{ id: string; tenantId: string } | null> {
    if (!isUuid(workspaceId)) return null;
    const rows = await tx.$queryRaw<{ id: string; tenant_id: string }[]>`
      SELECT id, tenant_id FROM workspaces WHERE id = ${workspaceId}::uuid AND deleted_at IS NULL FOR UPDATE`;
    return rows[0] ? { id: rows[0].id, tenantId: rows[0].tenant_id } : null;
  }

  /** The owner of a workspace row, a deleted one included, and nothing else: it turns the platform scope into the tenant of a scoped read. */
  async ownerOf(workspaceId: string): Promise<string | null> {
    if (!isUuid(workspaceId)) return null;
    const row = await this.prisma.workspace.findUnique({ where: { id: workspaceId }, select: { tenantId: true } });
    return row?.tenantId ?? null;
  }

  /** A workspace row of `tenantId`, a deleted one included (its deletion needs it; nothing else may). */
  async findIncludingDeleted(tenantId: string, workspaceId: string): Promise<Workspace | null> {
    if (!isUuid(workspaceId)) return null;
    return this.prisma.workspace.findUnique({ where: { id: workspaceId, tenantId } });
  }

  async markDeleted(tx: Tx, tenantId: string, workspaceId: string): Promise<void> {
    await tx.workspace.updateMany({ where: { id: workspaceId, tenantId, deletedAt: null }, data: { deletedAt: new Date() } });
  }

  /** The workspace's own row, once everything keyed by it is gone; a row already gone is fine. */
  async deleteRow(tx: Tx, tenantId: string, workspaceId: string): Promise<number> {
    const { count } = await tx.workspace.deleteMany({ where: { id: workspaceId, tenantId, deletedAt: { not: null } } });
    return count;
  }

  /** Moves a live workspace from `fromTenantId` (its owner, read under the caller's lock) to `toTenantId`. */
  async moveToTenant(tx: Tx, fromTenantId: string, workspaceId: string, toTenantId: string): Promise<Workspace | null> {
    if (!isUuid(workspaceId)) return null;
    const { count } = await tx.workspace.updateMany({
      where: { id: workspaceId, tenantId: fromTenantId, deletedAt: null },
      data: { tenantId: toTenantId },
    });
    return count === 0 ? null : tx.workspace.findUnique({ where: { id: workspaceId, tenantId: toTenantId } });
  }
}

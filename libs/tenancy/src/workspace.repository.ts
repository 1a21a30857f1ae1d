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
   * Locks a live (not deleted) workspace's row for the rest of the caller's transaction, exclusively:
   * record inserts (their foreign-key check) and backfill pages (their fence) wait until it ends.
   */
  async lockLive(tx: Tx, workspaceId: string): Promise<{ id: string; tenantId: string } | null> {
    if (!isUuid(workspaceId)) return null;
    const rows = await tx.$queryRaw<{ id: string; tenant_id: string }[]>`
      SELECT id, tenant_id FROM workspaces WHERE id = ${workspaceId}::uuid AND deleted_at IS NULL FOR UPDATE`;
    return rows[0] ? { id: rows[0].id, tenantId: rows[0].tenant_id } : null;
  }

  /** Any workspace row, a deleted one included (its deletion job needs it; nothing else may). */
  async findIncludingDeleted(workspaceId: string): Promise<Workspace | null> {
    if (!isUuid(workspaceId)) return null;
    return this.prisma.workspace.findUnique({ where: { id: workspaceId } });
  }

  async markDeleted(tx: Tx, workspaceId: string): Promise<void> {
    await tx.workspace.updateMany({ where: { id: workspaceId, deletedAt: null }, data: { deletedAt: new Date() } });
  }

  /** The workspace's own row, once everything keyed by it is gone; a row already gone is fine. */
  async deleteRow(tx: Tx, workspaceId: string): Promise<number> {
    const { count } = await tx.workspace.deleteMany({ where: { id: workspaceId, deletedAt: { not: null } } });
    return count;
  }

  async moveToTenant(workspaceId: string, tenantId: string, tx?: Tx): Promise<Workspace | null> {
    if (!isUuid(workspaceId)) return null;
    const db = tx ?? this.prisma;
    const { count } = await db.workspace.updateMany({ where: { id: workspaceId, deletedAt: null }, data: { tenantId } });
    return count === 0 ? null : db.workspace.findUnique({ where: { id: workspaceId } });
  }
}

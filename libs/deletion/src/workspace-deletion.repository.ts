import { Injectable } from '@nestjs/common';
import { isUuid } from '#libs/common';
import { Prisma, PrismaService, type Tx, type WorkspaceDeletion, WorkspaceDeletionStatus } from '#libs/database';
import type { UnfinishedJob } from '#libs/queue';
import type { DeletedCounts } from './workspace-purge.js';

export const ACTIVE_DELETION_STATUSES: readonly WorkspaceDeletionStatus[] = [WorkspaceDeletionStatus.queued, WorkspaceDeletionStatus.running];

/**
 * Owns workspace_deletions: the job rows that watch a workspace being emptied. Every method on a
 * deletion takes its tenant id (the workspace's owner when it was deleted) first and puts it in the
 * WHERE, but `ownerOf` (the owner's id alone: how the platform scope or the job runtime finds the
 * tenant of a deletion id) and `unfinished` (the reconciler's ids).
 */
@Injectable()
export class WorkspaceDeletionRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A queued deletion of a workspace, inside the transaction that marks the workspace deleted. */
  create(tx: Tx, tenantId: string, workspaceId: string): Promise<WorkspaceDeletion> {
    return tx.workspaceDeletion.create({ data: { workspaceId, tenantId } });
  }

  /** As `create`, for a resumed deletion: null when the workspace already has an unfinished one (a partial unique index decides). */
  async createUnlessActive(tx: Tx, tenantId: string, workspaceId: string): Promise<WorkspaceDeletion | null> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO workspace_deletions (id, workspace_id, tenant_id) VALUES (gen_random_uuid(), ${workspaceId}::uuid, ${tenantId}::uuid)
      ON CONFLICT (workspace_id) WHERE status IN ('queued', 'running') DO NOTHING
      RETURNING id`;
    return rows[0] ? tx.workspaceDeletion.findUnique({ where: { id: rows[0].id, tenantId } }) : null;
  }

  /** A deletion of `tenantId`; null for a missing id or another tenant's. */
  findById(tenantId: string, deletionId: string): Promise<WorkspaceDeletion | null> {
    if (!isUuid(deletionId)) return Promise.resolve(null);
    return this.prisma.workspaceDeletion.findUnique({ where: { id: deletionId, tenantId } });
  }

  /** The tenant that owns a deletion, and nothing else. */
  async ownerOf(deletionId: string): Promise<string | null> {
    if (!isUuid(deletionId)) return null;
    const row = await this.prisma.workspaceDeletion.findUnique({ where: { id: deletionId }, select: { tenantId: true } });
    return row?.tenantId ?? null;
  }

  /** The tenant's newest deletion job of a workspace, if any. */
  findLatest(tenantId: string, workspaceId: string): Promise<WorkspaceDeletion | null> {
    return this.prisma.workspaceDeletion.findFirst({ where: { tenantId, workspaceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }

  /** Every deletion that has not ended, for the reconciler. */
  unfinished(): Promise<UnfinishedJob[]> {
    return this.prisma.workspaceDeletion.findMany({
      where: { status: { in: [...ACTIVE_DELETION_STATUSES] } },
      select: { id: true, updatedAt: true },
    });
  }

  /** A run takes an unfinished deletion; null when it has ended. */
  async claim(tenantId: string, deletionId: string): Promise<WorkspaceDeletion | null> {
    const { count } = await this.prisma.workspaceDeletion.updateMany({
      where: { id: deletionId, tenantId, status: { in: [...ACTIVE_DELETION_STATUSES] } },
      data: { status: WorkspaceDeletionStatus.running },
    });
    if (count === 0) return null;
    await this.prisma.workspaceDeletion.updateMany({ where: { id: deletionId, tenantId, startedAt: null }, data: { startedAt: new Date() } });
    return this.findById(tenantId, deletionId);
  }

  /**
   * Adds one batch's deleted rows to the job's counts, inside the batch's transaction, so the counts
   * are exactly what committed. False when the job has ended meanwhile (the caller rolls back).
   */
  async addDeleted(tx: Tx, tenantId: string, deletionId: string, counts: DeletedCounts): Promise<boolean> {
    const entries = Object.entries(counts).filter(([, n]) => n !== undefined && n > 0);
    if (entries.length === 0) return true;
    let deleted = Prisma.sql`deleted`;
    for (const [table, n] of entries) {
      deleted = Prisma.sql`jsonb_set(${deleted}, ARRAY[${table}]::text[], to_jsonb(COALESCE((deleted->>${table})::bigint, 0) + ${n}))`;
    }
    const updated = await tx.$executeRaw`
      UPDATE workspace_deletions SET deleted = ${deleted}, updated_at = now()
      WHERE id = ${deletionId}::uuid AND tenant_id = ${tenantId}::uuid AND status = 'running'`;
    return updated === 1;
  }

  /** Ends an unfinished deletion; false when it had already ended. */
  async finish(
    tenantId: string,
    deletionId: string,
    status: WorkspaceDeletionStatus,
    failure?: { code: string; message: string },
    tx?: Tx,
  ): Promise<boolean> {
    const { count } = await (tx ?? this.prisma).workspaceDeletion.updateMany({
      where: { id: deletionId, tenantId, status: { in: [...ACTIVE_DELETION_STATUSES] } },
      data: { status, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null, finishedAt: new Date() },
    });
    return count > 0;
  }

  /** A lost run handed back to the queue: queued again, one more requeue counted. False when it had ended. */
  async requeue(tenantId: string, deletionId: string): Promise<boolean> {
    const { count } = await this.prisma.workspaceDeletion.updateMany({
      where: { id: deletionId, tenantId, status: { in: [...ACTIVE_DELETION_STATUSES] } },
      data: { status: WorkspaceDeletionStatus.queued, requeues: { increment: 1 } },
    });
    return count > 0;
  }
}

import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, type Tx, type WorkspaceDeletion, WorkspaceDeletionStatus } from '#libs/database';
import type { UnfinishedJob } from '#libs/queue';
import type { DeletedCounts } from './workspace-purge.js';

export const ACTIVE_DELETION_STATUSES: readonly WorkspaceDeletionStatus[] = [WorkspaceDeletionStatus.queued, WorkspaceDeletionStatus.running];

/** Owns workspace_deletions: the job rows that watch a workspace being emptied. */
@Injectable()
export class WorkspaceDeletionRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A queued deletion of a workspace, inside the transaction that marks the workspace deleted. */
  create(tx: Tx, workspaceId: string, tenantId: string): Promise<WorkspaceDeletion> {
    return tx.workspaceDeletion.create({ data: { workspaceId, tenantId } });
  }

  /** As `create`, for a resumed deletion: null when the workspace already has an unfinished one (a partial unique index decides). */
  async createUnlessActive(tx: Tx, workspaceId: string, tenantId: string): Promise<WorkspaceDeletion | null> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO workspace_deletions (id, workspace_id, tenant_id) VALUES (gen_random_uuid(), ${workspaceId}::uuid, ${tenantId}::uuid)
      ON CONFLICT (workspace_id) WHERE status IN ('queued', 'running') DO NOTHING
      RETURNING id`;
    return rows[0] ? tx.workspaceDeletion.findUnique({ where: { id: rows[0].id } }) : null;
  }

  findById(deletionId: string): Promise<WorkspaceDeletion | null> {
    return this.prisma.workspaceDeletion.findUnique({ where: { id: deletionId } });
  }

  /** The workspace's newest deletion job, if any. */
  findLatest(workspaceId: string): Promise<WorkspaceDeletion | null> {
    return this.prisma.workspaceDeletion.findFirst({ where: { workspaceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }

  /** Every deletion that has not ended, for the reconciler. */
  unfinished(): Promise<UnfinishedJob[]> {
    return this.prisma.workspaceDeletion.findMany({
      where: { status: { in: [...ACTIVE_DELETION_STATUSES] } },
      select: { id: true, updatedAt: true },
    });
  }

  /** A run takes an unfinished deletion; null when it has ended. */
  async claim(deletionId: string): Promise<WorkspaceDeletion | null> {
    const { count } = await this.prisma.workspaceDeletion.updateMany({
      where: { id: deletionId, status: { in: [...ACTIVE_DELETION_STATUSES] } },
      data: { status: WorkspaceDeletionStatus.running },
    });
    if (count === 0) return null;
    await this.prisma.workspaceDeletion.updateMany({ where: { id: deletionId, startedAt: null }, data: { startedAt: new Date() } });
    return this.findById(deletionId);
  }

  /**
   * Adds one batch's deleted rows to the job's counts, inside the batch's transaction, so the counts
   * are exactly what committed. False when the job has ended meanwhile (the caller rolls back).
   */
  async addDeleted(tx: Tx, deletionId: string, counts: DeletedCounts): Promise<boolean> {
    const entries = Object.entries(counts).filter(([, n]) => n !== undefined && n > 0);
    if (entries.length === 0) return true;
    let deleted = Prisma.sql`deleted`;
    for (const [table, n] of entries) {
      deleted = Prisma.sql`jsonb_set(${deleted}, ARRAY[${table}]::text[], to_jsonb(COALESCE((deleted->>${table})::bigint, 0) + ${n}))`;
    }
    const updated = await tx.$executeRaw`
      UPDATE workspace_deletions SET deleted = ${deleted}, updated_at = now()
      WHERE id = ${deletionId}::uuid AND status = 'running'`;
    return updated === 1;
  }

  /** Ends an unfinished deletion; false when it had already ended. */
  async finish(deletionId: string, status: WorkspaceDeletionStatus, failure?: { code: string; message: string }, tx?: Tx): Promise<boolean> {
    const { count } = await (tx ?? this.prisma).workspaceDeletion.updateMany({
      where: { id: deletionId, status: { in: [...ACTIVE_DELETION_STATUSES] } },
      data: { status, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null, finishedAt: new Date() },
    });
    return count > 0;
  }

  /** A lost run handed back to the queue: queued again, one more requeue counted. False when it had ended. */
  async requeue(deletionId: string): Promise<boolean> {
    const { count } = await this.prisma.workspaceDeletion.updateMany({
      where: { id: deletionId, status: { in: [...ACTIVE_DELETION_STATUSES] } },
      data: { status: WorkspaceDeletionStatus.queued, requeues: { increment: 1 } },
    });
    return count > 0;
  }
}

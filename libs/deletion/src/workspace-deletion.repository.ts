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

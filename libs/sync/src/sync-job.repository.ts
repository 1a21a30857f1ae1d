import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService, type SyncJob, SyncJobStatus, type Tx } from '#libs/database';

export const ACTIVE_STATUSES: readonly SyncJobStatus[] = [SyncJobStatus.queued, SyncJobStatus.preflight, SyncJobStatus.running];

export interface PageProgress {
  cursor: string | null;
  records: number;
  newEntities: number;
  newRelationships: number;
}

export interface KeyDetails {
  provider: string;
  keySource: string;
  keyFingerprint: string;
  keyLast4: string | null;
}

/** Owns sync_jobs. Reads for the API are scoped by workspace; the worker addresses a row by its id. */
@Injectable()
export class SyncJobRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Null when the workspace already has an active backfill (a partial unique index decides, race-free). */
  async createQueued(workspaceId: string, tenantId: string, source: string): Promise<SyncJob | null> {
    try {
      return await this.prisma.syncJob.create({ data: { workspaceId, tenantId, source } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return null;
      throw error;
    }
  }

  findActive(workspaceId: string): Promise<SyncJob | null> {
    return this.prisma.syncJob.findFirst({ where: { workspaceId, status: { in: [...ACTIVE_STATUSES] } } });
  }

  findById(jobId: string): Promise<SyncJob | null> {
    return this.prisma.syncJob.findUnique({ where: { id: jobId } });
  }

  listByWorkspace(workspaceId: string, limit = 100): Promise<SyncJob[]> {
    return this.prisma.syncJob.findMany({ where: { workspaceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
  }

  async delete(jobId: string): Promise<void> {
    await this.prisma.syncJob.deleteMany({ where: { id: jobId } });
  }

  /** Moves an active job to pre-flight; false when it has already ended. */
  async markPreflight(jobId: string): Promise<boolean> {
    const { count } = await this.prisma.syncJob.updateMany({
      where: { id: jobId, status: { in: [...ACTIVE_STATUSES] } },
      data: { status: SyncJobStatus.preflight },
    });
    if (count > 0) await this.prisma.syncJob.updateMany({ where: { id: jobId, startedAt: null }, data: { startedAt: new Date() } });
    return count > 0;
  }

  async markRunning(jobId: string, key: KeyDetails): Promise<void> {
    await this.prisma.syncJob.updateMany({
      where: { id: jobId, status: { in: [...ACTIVE_STATUSES] } },
      data: { status: SyncJobStatus.running, ...key },
    });
  }

  /** Counters and checkpoint advance inside the page's transaction, together with the graph. */
  async advance(tx: Tx, jobId: string, page: PageProgress): Promise<void> {
    await tx.syncJob.update({
      where: { id: jobId },
      data: {
        cursor: page.cursor,
        recordsFetched: { increment: page.records },
        recordsProcessed: { increment: page.records },
        entities: { increment: page.newEntities },
        relationships: { increment: page.newRelationships },
      },
    });
  }

  async finish(jobId: string, status: SyncJobStatus, failure?: { code: string; message: string }): Promise<boolean> {
    const { count } = await this.prisma.syncJob.updateMany({
      where: { id: jobId, status: { in: [...ACTIVE_STATUSES] } },
      data: { status, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null, finishedAt: new Date() },
    });
    return count > 0;
  }

  async requestCancel(jobId: string): Promise<void> {
    await this.prisma.syncJob.updateMany({ where: { id: jobId, status: { in: [...ACTIVE_STATUSES] } }, data: { cancelRequested: true } });
  }

  async isCancelRequested(jobId: string): Promise<boolean> {
    const row = await this.prisma.syncJob.findUnique({ where: { id: jobId }, select: { cancelRequested: true } });
    return row?.cancelRequested ?? false;
  }
}

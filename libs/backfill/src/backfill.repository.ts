import { Injectable } from '@nestjs/common';
import { type Backfill, BackfillStatus, Prisma, PrismaService, type Tx } from '#libs/database';

export const ACTIVE_STATUSES: readonly BackfillStatus[] = [BackfillStatus.queued, BackfillStatus.preflight, BackfillStatus.running];

export interface PageProgress {
  cursor: string | null;
  /** Records the page handled, failed ones included. */
  records: number;
  recordsFailed: number;
  itemsDropped: number;
  newEntities: number;
  newRelationships: number;
}

export interface KeyDetails {
  provider: string;
  keySource: string;
  keyFingerprint: string;
  keyLast4: string | null;
}

/** Owns backfills. Reads for the API are scoped by workspace; the worker addresses a row by its id. */
@Injectable()
export class BackfillRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Null when the workspace already has an active backfill (a partial unique index decides, race-free). */
  async createQueued(workspaceId: string, tenantId: string, source: string, retryOfId?: string): Promise<Backfill | null> {
    try {
      return await this.prisma.backfill.create({ data: { workspaceId, tenantId, source, retryOfId } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return null;
      throw error;
    }
  }

  findActive(workspaceId: string): Promise<Backfill | null> {
    return this.prisma.backfill.findFirst({ where: { workspaceId, status: { in: [...ACTIVE_STATUSES] } } });
  }

  findById(backfillId: string): Promise<Backfill | null> {
    return this.prisma.backfill.findUnique({ where: { id: backfillId } });
  }

  listByWorkspace(workspaceId: string, limit = 100): Promise<Backfill[]> {
    return this.prisma.backfill.findMany({ where: { workspaceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
  }

  async delete(backfillId: string): Promise<void> {
    await this.prisma.backfill.deleteMany({ where: { id: backfillId } });
  }

  /** Moves an active job to pre-flight; false when it has already ended. */
  async markPreflight(backfillId: string): Promise<boolean> {
    const { count } = await this.prisma.backfill.updateMany({
      where: { id: backfillId, status: { in: [...ACTIVE_STATUSES] } },
      data: { status: BackfillStatus.preflight },
    });
    if (count > 0) await this.prisma.backfill.updateMany({ where: { id: backfillId, startedAt: null }, data: { startedAt: new Date() } });
    return count > 0;
  }

  async markRunning(backfillId: string, key: KeyDetails): Promise<void> {
    await this.prisma.backfill.updateMany({
      where: { id: backfillId, status: { in: [...ACTIVE_STATUSES] } },
      data: { status: BackfillStatus.running, ...key },
    });
  }

  /** Counters and checkpoint advance inside the page's transaction, together with the graph. */
  async advance(tx: Tx, backfillId: string, page: PageProgress): Promise<void> {
    await tx.backfill.update({
      where: { id: backfillId },
      data: {
        cursor: page.cursor,
        recordsFetched: { increment: page.records },
        recordsProcessed: { increment: page.records },
        recordsFailed: { increment: page.recordsFailed },
        itemsDropped: { increment: page.itemsDropped },
        entities: { increment: page.newEntities },
        relationships: { increment: page.newRelationships },
      },
    });
  }

  /** A retry took `count` failed records away from the backfill they failed in. */
  async releaseFailed(tx: Tx, backfillId: string, count: number): Promise<void> {
    if (count > 0) await tx.backfill.update({ where: { id: backfillId }, data: { recordsFailed: { decrement: count } } });
  }

  async finish(backfillId: string, status: BackfillStatus, failure?: { code: string; message: string }): Promise<boolean> {
    const { count } = await this.prisma.backfill.updateMany({
      where: { id: backfillId, status: { in: [...ACTIVE_STATUSES] } },
      data: { status, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null, finishedAt: new Date() },
    });
    return count > 0;
  }

  async requestCancel(backfillId: string): Promise<void> {
    await this.prisma.backfill.updateMany({ where: { id: backfillId, status: { in: [...ACTIVE_STATUSES] } }, data: { cancelRequested: true } });
  }

  async isCancelRequested(backfillId: string): Promise<boolean> {
    const row = await this.prisma.backfill.findUnique({ where: { id: backfillId }, select: { cancelRequested: true } });
    return row?.cancelRequested ?? false;
  }
}

import { Injectable } from '@nestjs/common';
import { isUuid } from '#libs/common';
import { type Backfill, BackfillStatus, Prisma, PrismaService, type Tx } from '#libs/database';
import type { UnfinishedJob } from '#libs/queue';
import { WebhookPublisher } from '#libs/webhooks';

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

/** The run that holds a backfill: a page commits only while the row names this lease and the workspace is still the job's tenant's. */
export interface BackfillLease {
  backfillId: string;
  tenantId: string;
  leaseToken: string;
}

/** Why a page could not commit: another run holds the job (or it ended), its workspace changed owner, or its deletion was asked for. */
export type FenceVerdict = 'lease-lost' | 'workspace-transferred' | 'workspace-deleted';

/** Where a new backfill starts: from the beginning, or from a failed or cancelled one's checkpoint. */
export interface StartPoint {
  retryOfId?: string;
  resumedFromId?: string;
  cursor?: string | null;
}

/**
 * Owns backfills. Every method on one tenant's rows takes its tenant id first (after a transaction
 * handle) and puts it in the WHERE. Reads across tenants say so in their name and return no
 * content: `ownerOf` (the platform scope's and the job runtime's way from an id to its tenant),
 * `listActiveAnyTenant` and `activeIds` (ids and owners of a workspace's jobs, whoever started
 * them, for a deletion or transfer), `listByWorkspaceAnyTenant` (the platform admin's list),
 * `unfinished` (the reconciler's).
 */
@Injectable()
export class BackfillRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly webhooks: WebhookPublisher,
  ) {}

  /** Null when the workspace already has an active backfill (a partial unique index decides, race-free). */
  async createQueued(tenantId: string, workspaceId: string, source: string, start: StartPoint = {}): Promise<Backfill | null> {
    try {
      return await this.prisma.backfill.create({
        data: { workspaceId, tenantId, source, retryOfId: start.retryOfId, resumedFromId: start.resumedFromId, cursor: start.cursor ?? null },
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return null;
      throw error;
    }
  }

  /** The tenant's active backfill of a workspace, if any. */
  findActive(tenantId: string, workspaceId: string): Promise<Backfill | null> {
    return this.prisma.backfill.findFirst({ where: { tenantId, workspaceId, status: { in: [...ACTIVE_STATUSES] } } });
  }

  /** The workspace's active backfills, whichever tenant started them (one left from before a transfer too): ids and owners only. */
  listActiveAnyTenant(workspaceId: string): Promise<{ id: string; tenantId: string }[]> {
    return this.prisma.backfill.findMany({ where: { workspaceId, status: { in: [...ACTIVE_STATUSES] } }, select: { id: true, tenantId: true } });
  }

  /** The ids of the workspace's active backfills (any tenant's), read inside the caller's transaction (which holds the workspace row). */
  async activeIds(tx: Tx, workspaceId: string): Promise<string[]> {
    const rows = await tx.backfill.findMany({ where: { workspaceId, status: { in: [...ACTIVE_STATUSES] } }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  /** A backfill of `tenantId`; null for a missing id or another tenant's. */
  findById(tenantId: string, backfillId: string): Promise<Backfill | null> {
    if (!isUuid(backfillId)) return Promise.resolve(null);
    return this.prisma.backfill.findUnique({ where: { id: backfillId, tenantId } });
  }

  /** The tenant that owns a backfill, and nothing else: how the platform scope or the job runtime finds the tenant for `findById`. */
  async ownerOf(backfillId: string): Promise<string | null> {
    if (!isUuid(backfillId)) return null;
    const row = await this.prisma.backfill.findUnique({ where: { id: backfillId }, select: { tenantId: true } });
    return row?.tenantId ?? null;
  }

  /** The workspace's backfills run by `tenantId`, newest first. */
  listByWorkspace(tenantId: string, workspaceId: string, limit = 100): Promise<Backfill[]> {
    return this.prisma.backfill.findMany({ where: { tenantId, workspaceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
  }

  /** The workspace's backfills run by any tenant (its previous owners' too), newest first: for the platform admin only. */
  listByWorkspaceAnyTenant(workspaceId: string, limit = 100): Promise<Backfill[]> {
    return this.prisma.backfill.findMany({ where: { workspaceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
  }

  /** The tenant's latest full backfill (not a retry of failed records) of a workspace and source. */
  findLatestFull(tenantId: string, workspaceId: string, source: string): Promise<Backfill | null> {
    return this.prisma.backfill.findFirst({
      where: { workspaceId, tenantId, source, retryOfId: null },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
  }

  /** Every backfill that has not ended, for the reconciler. */
  async unfinished(): Promise<UnfinishedJob[]> {
    return this.prisma.backfill.findMany({ where: { status: { in: [...ACTIVE_STATUSES] } }, select: { id: true, updatedAt: true } });
  }

  async delete(tenantId: string, backfillId: string): Promise<void> {
    await this.prisma.backfill.deleteMany({ where: { id: backfillId, tenantId } });
  }

  /**
   * A run claims an active job: it moves to pre-flight under the run's lease token, which fences
   * off any earlier run still alive (paused past its lock). False when the job has already ended.
   */
  async claim(lease: BackfillLease): Promise<boolean> {
    const { backfillId, tenantId, leaseToken } = lease;
    const { count } = await this.prisma.backfill.updateMany({
      where: { id: backfillId, tenantId, status: { in: [...ACTIVE_STATUSES] } },
      data: { status: BackfillStatus.preflight, leaseToken },
    });
    if (count > 0) await this.prisma.backfill.updateMany({ where: { id: backfillId, tenantId, startedAt: null }, data: { startedAt: new Date() } });
    return count > 0;
  }

  async markRunning(lease: BackfillLease, key: KeyDetails): Promise<void> {
    await this.prisma.backfill.updateMany({
      where: { id: lease.backfillId, tenantId: lease.tenantId, leaseToken: lease.leaseToken, status: { in: [...ACTIVE_STATUSES] } },
      data: { status: BackfillStatus.running, ...key },
    });
  }

  /**
   * A run that stopped at a checkpoint without ending the backfill (shutdown, or its slot given to a
   * waiting tenant) shows it `queued` again until a run takes it up; only while the run still holds it.
   */
  async requeue(lease: BackfillLease): Promise<void> {
    await this.prisma.backfill.updateMany({
      where: { id: lease.backfillId, tenantId: lease.tenantId, leaseToken: lease.leaseToken, status: { in: [...ACTIVE_STATUSES] } },
      data: { status: BackfillStatus.queued },
    });
  }

  /**
   * Counters and checkpoint advance inside the page's transaction, together with the graph, and
   * only while the run still holds the job and the workspace still belongs to the job's tenant and
   * is not being deleted (fencing: a compare-and-set on the lease token, the status, the owner and
   * the workspace's deleted_at).
   * @returns null when the page may commit, else why it may not (the caller rolls the transaction back)
   */
  async advance(tx: Tx, lease: BackfillLease, page: PageProgress): Promise<FenceVerdict | null> {
    const count = await tx.$executeRaw`
      UPDATE backfills SET
        cursor = ${page.cursor},
        records_fetched = records_fetched + ${page.records},
        records_processed = records_processed + ${page.records},
        records_failed = records_failed + ${page.recordsFailed},
        items_dropped = items_dropped + ${page.itemsDropped},
        entities = entities + ${page.newEntities},
        relationships = relationships + ${page.newRelationships},
        updated_at = now()
      WHERE id = ${lease.backfillId}::uuid AND lease_token = ${lease.leaseToken}::uuid AND tenant_id = ${lease.tenantId}::uuid
        AND status IN ('queued', 'preflight', 'running')
        AND EXISTS (SELECT 1 FROM workspaces w WHERE w.id = backfills.workspace_id AND w.tenant_id = ${lease.tenantId}::uuid
          AND w.deleted_at IS NULL FOR SHARE)`;
    if (count === 1) return null;
    return this.fenceVerdict(tx, lease);
  }

  /**
   * The job's workspace, share-locked until `tx` ends (a deletion's or transfer's UPDATE of it waits
   * for the page), and the fence it sets: deleted (or gone), moved to another tenant, else null.
   */
  async workspaceFence(tx: Tx, lease: BackfillLease): Promise<FenceVerdict | null> {
    const rows = await tx.$queryRaw<{ tenant_id: string; deleted: boolean }[]>`
      SELECT w.tenant_id::text AS tenant_id, w.deleted_at IS NOT NULL AS deleted FROM workspaces w
      WHERE w.id = (SELECT b.workspace_id FROM backfills b WHERE b.id = ${lease.backfillId}::uuid AND b.tenant_id = ${lease.tenantId}::uuid)
      FOR SHARE`;
    if (!rows[0] || rows[0].deleted) return 'workspace-deleted';
    return rows[0].tenant_id === lease.tenantId ? null : 'workspace-transferred';
  }

  private async fenceVerdict(tx: Tx, lease: BackfillLease): Promise<FenceVerdict> {
    const rows = await tx.$queryRaw<{ moved: boolean; deleted: boolean }[]>`
      SELECT w.tenant_id <> b.tenant_id AS moved, w.deleted_at IS NOT NULL AS deleted
      FROM backfills b JOIN workspaces w ON w.id = b.workspace_id WHERE b.id = ${lease.backfillId}::uuid AND b.tenant_id = ${lease.tenantId}::uuid`;
    if (rows[0]?.deleted) return 'workspace-deleted';
    return rows[0]?.moved ? 'workspace-transferred' : 'lease-lost';
  }

  /** A retry took `count` failed records away from the backfill they failed in. */
  async releaseFailed(tx: Tx, tenantId: string, backfillId: string, count: number): Promise<void> {
    if (count > 0) await tx.backfill.updateMany({ where: { id: backfillId, tenantId }, data: { recordsFailed: { decrement: count } } });
  }

  /**
   * Ends an active job. With `leaseToken` (a run ending its own job) only while that run still
   * holds it; without (cancel, the reconciler) whatever run holds it. False when nothing changed.
   * A job that ends succeeded or failed announces it (`backfill.succeeded`, `backfill.failed`: ids,
   * the failure's code and message, counters) in the same transaction, through the webhook outbox.
   */
  async finish(
    tenantId: string,
    backfillId: string,
    status: BackfillStatus,
    failure?: { code: string; message: string },
    leaseToken?: string,
  ): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const [ended] = await tx.backfill.updateManyAndReturn({
        where: { id: backfillId, tenantId, status: { in: [...ACTIVE_STATUSES] }, ...(leaseToken ? { leaseToken } : {}) },
        data: { status, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null, finishedAt: new Date() },
      });
      if (!ended) return false;
      if (status === BackfillStatus.succeeded || status === BackfillStatus.failed) {
        await this.webhooks.publish(
          tenantId,
          status === BackfillStatus.succeeded ? 'backfill.succeeded' : 'backfill.failed',
          {
            backfillId: ended.id,
            workspaceId: ended.workspaceId,
            status,
            failure: failure ? { code: failure.code, message: failure.message } : null,
            counters: {
              recordsFetched: ended.recordsFetched,
              recordsProcessed: ended.recordsProcessed,
              recordsFailed: ended.recordsFailed,
              entities: ended.entities,
              relationships: ended.relationships,
            },
          },
          tx,
        );
      }
      return true;
    });
  }

  /** Asks every active backfill of a workspace (any tenant's) to stop, inside the caller's transaction (a workspace deletion with cancelActive). */
  async requestCancelAll(tx: Tx, workspaceId: string): Promise<void> {
    await tx.backfill.updateMany({ where: { workspaceId, status: { in: [...ACTIVE_STATUSES] } }, data: { cancelRequested: true } });
  }

  async requestCancel(tenantId: string, backfillId: string): Promise<void> {
    await this.prisma.backfill.updateMany({
      where: { id: backfillId, tenantId, status: { in: [...ACTIVE_STATUSES] } },
      data: { cancelRequested: true },
    });
  }

  async isCancelRequested(tenantId: string, backfillId: string): Promise<boolean> {
    const row = await this.prisma.backfill.findUnique({ where: { id: backfillId, tenantId }, select: { cancelRequested: true } });
    return row?.cancelRequested ?? false;
  }
}

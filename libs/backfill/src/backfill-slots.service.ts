import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { JobName, JobQueue } from '#libs/queue';
import { LeaseTable, RedisService } from '#libs/redis';
import { fairShare, type SlotCensus } from './fair-share.js';

/** A backfill's hold on one of its tenant's slots. */
export interface SlotLease {
  tenantId: string;
  leaseId: string;
  /** This run is giving its slot up (shouldYield said so): it still holds it until its calls in flight end. */
  yielding?: boolean;
}

export type Admission = { admitted: true; lease: SlotLease } | { admitted: false; reason: 'tenant-cap' | 'fair-share'; retryInMs: number };

/** A job queued this recently (ms) may simply not have been picked up yet: it does not count as waiting. */
const WAITING_GRACE_MS = 300;
/** Waiting jobs looked at (the oldest), and how long (ms) a process reuses what it saw. */
const WAITING_SAMPLE = 100;
const CENSUS_TTL_MS = 250;
/** After a slot was given up, the tenant's next yield is judged this much later (ms): the slot goes to the waiting job first. */
const YIELD_SPACING_MS = 1_000;
/** When a refused job comes back (ms, plus up to half again at random, so a crowd of them spreads out). */
const RETRY_AT_CAP_MS = 1_000;
const RETRY_FAIR_SHARE_MS = 500;

/**
 * Backfill slots per tenant across every worker (fair scheduling without BullMQ Pro's groups): a
 * running backfill holds a lease in Redis (LeaseTable `backfills`, a group per tenant) for
 * JOB_LOCK_DURATION_MS, renewed while it runs, so a worker that dies frees its slots when its job lock
 * would lapse. A job starts only while its tenant holds fewer than TENANT_MAX_ACTIVE_BACKFILLS, and,
 * while another tenant's backfill waits for a worker, fewer than its fair share (fairShare); a job
 * refused goes back to the end of the queue (JobRunResult `deferred`). At each page boundary a
 * running backfill whose tenant holds more than its share while another waits gives its slot up
 * (at most one per tenant a second) and resumes later from its checkpoint. Redis being away admits
 * every job: the queue's own concurrency still bounds the work.
 */
@Injectable()
export class BackfillSlots {
  private readonly logger = new Logger(BackfillSlots.name);
  private readonly leases: LeaseTable;
  private waitingSeen: { at: number; tenants: Promise<Set<string>> } | undefined;
  private censusSeen: { at: number; census: Promise<SlotCensus> } | undefined;

  constructor(
    private readonly redis: RedisService,
    private readonly queue: JobQueue,
    private readonly config: AppConfig,
  ) {
    this.leases = new LeaseTable(redis, 'backfills');
  }

  /** Takes a slot for `backfillId` of `tenantId`, or says why not and when to try again. */
  async admit(tenantId: string, backfillId: string): Promise<Admission> {
    const cap = this.config.tenantShares.maxActiveBackfills;
    const lease: SlotLease = { tenantId, leaseId: `${backfillId}:${randomUUID()}` };
    try {
      const census: SlotCensus = { running: await this.leases.census(), waiting: await this.waitingTenants() };
      const allowed = fairShare(tenantId, census, cap, true);
      if (await this.leases.acquire(tenantId, lease.leaseId, allowed, this.ttlMs)) return { admitted: true, lease };
      const atCap = (census.running.get(tenantId) ?? 0) >= cap;
      const base = atCap ? RETRY_AT_CAP_MS : RETRY_FAIR_SHARE_MS;
      return { admitted: false, reason: atCap ? 'tenant-cap' : 'fair-share', retryInMs: base + Math.floor(Math.random() * (base / 2)) };
    } catch (error) {
      this.logger.warn(`Backfill slots not applied, Redis is unavailable (${error instanceof Error ? error.message : String(error)})`);
      return { admitted: true, lease };
    }
  }

  /** Keeps the lease alive (every third of its time to live while the backfill runs). */
  async renew(lease: SlotLease): Promise<void> {
    await this.leases.renew(lease.tenantId, lease.leaseId, this.ttlMs).catch(() => undefined);
  }

  /** Gives the slot up; after a yield, the tenant's next yield waits YIELD_SPACING_MS, for the waiting job to take the slot. */
  async release(lease: SlotLease): Promise<void> {
    await this.leases.release(lease.tenantId, lease.leaseId).catch(() => undefined);
    if (lease.yielding) {
      await this.redis.client.set(this.yieldKey(lease.tenantId), lease.leaseId, 'PX', YIELD_SPACING_MS, 'XX').catch(() => undefined);
    }
  }

  /**
   * Whether the backfill holding `lease` should stop at its next checkpoint so a waiting tenant gets
   * its slot: true when its tenant holds more than its fair share while another tenant waits, and no
   * other backfill of the tenant is yielding already (one at a time, across workers: a marker in
   * Redis, set atomically). The run keeps its slot until its calls in flight have ended and it
   * releases it, so the tenant's caps hold throughout; a run that dies meanwhile frees both when
   * they lapse (JOB_LOCK_DURATION_MS).
   */
  async shouldYield(lease: SlotLease): Promise<boolean> {
    try {
      const census = await this.cachedCensus();
      const share = fairShare(lease.tenantId, census, this.config.tenantShares.maxActiveBackfills, false);
      if ((census.running.get(lease.tenantId) ?? 0) <= share) return false;
      const turn = await this.redis.client.set(this.yieldKey(lease.tenantId), lease.leaseId, 'PX', this.ttlMs, 'NX');
      if (turn === null) return false;
      lease.yielding = true;
      this.censusSeen = undefined;
      return true;
    } catch {
      return false;
    }
  }

  /** How long (ms) a lease lives unrenewed: a job's lock duration, after which the queue gives a dead worker's job to another. */
  get ttlMs(): number {
    return this.config.jobs.lockDurationMs;
  }

  private yieldKey(tenantId: string): string {
    return this.redis.key('leases', 'backfills-yield', tenantId);
  }

  private cachedCensus(): Promise<SlotCensus> {
    const now = Date.now();
    if (!this.censusSeen || now - this.censusSeen.at > CENSUS_TTL_MS) {
      const census = (async () => ({ running: await this.leases.census(), waiting: await this.waitingTenants() }))();
      census.catch(() => undefined);
      this.censusSeen = { at: now, census };
    }
    return this.censusSeen.census;
  }

  /** Tenants whose backfills wait for a worker (in the queue's wait list past the grace), from their queue payloads. */
  private waitingTenants(): Promise<Set<string>> {
    const now = Date.now();
    if (!this.waitingSeen || now - this.waitingSeen.at > CENSUS_TTL_MS) {
      const tenants = this.queue.waiting(JobName.Backfill, WAITING_SAMPLE).then(
        (jobs) =>
          new Set(jobs.flatMap(({ payload, queuedAt }) => (payload.tenantId && now - queuedAt >= WAITING_GRACE_MS ? [payload.tenantId] : []))),
        () => new Set<string>(),
      );
      this.waitingSeen = { at: now, tenants };
    }
    return this.waitingSeen.tenants;
  }
}

import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { RequestKeySealer } from '#libs/byok';
import { AppError, type SealedRequestKey } from '#libs/common';
import { AppConfig } from '#libs/config';
import { type Backfill, BackfillStatus, TransactionService } from '#libs/database';
import { emptyPageGraph, GraphExtractor, GraphRepository, mergeAnswer, type PageGraph, type RecordExtraction } from '#libs/graphrag';
import { AuthenticationError } from '#libs/llm';
import { Metrics } from '#libs/metrics';
import { MailboxRecordSources } from '#libs/mailbox';
import { type RecordForExtraction, type RecordPage, type RecordSource, type RecordScope, RecordSourceFactory } from '#libs/records';
import type { JobContext, JobFailure, JobRunResult } from '#libs/queue';
import { PLATFORM_SCOPE, findInScope, WorkspaceNotFoundError } from '#libs/tenancy';
import {
  type CallCounter,
  KeyValidationService,
  newCallCounter,
  sumCounters,
  type ProviderSession,
  ProviderSessions,
  usageOutcomeOf,
} from '#libs/tenant-llm';
import { BudgetExceededError, BudgetService, UsageRepository } from '#libs/usage';
import { BackfillPreflight, type PreflightResult } from './backfill-preflight.service.js';
import { BackfillSlots, type SlotLease } from './backfill-slots.service.js';
import { WorkspaceTransferredError } from './backfill.errors.js';
import { type BackfillLease, BackfillRepository, type FenceVerdict } from './backfill.repository.js';
import { FailFastPool, NOT_STARTED } from './fail-fast-pool.js';
import { FailureBudget } from './failure-budget.js';
import { PageCostMeter } from './page-cost-meter.js';
import { type NewRecordFailure, RecordFailureRepository } from './record-failure.repository.js';

export interface BackfillCounters {
  recordsFetched: number;
  recordsProcessed: number;
  recordsFailed: number;
  itemsDropped: number;
  entities: number;
  relationships: number;
}

interface PageInFlight {
  page: RecordPage;
  outcomes: Promise<PromiseSettledResult<RecordExtraction | typeof NOT_STARTED>[]>;
  calls: CallCounter;
  /** The page's hold on its tenant's budget (null: no hard budget), settled by its commit. */
  reservation: string | null;
  /** The page's raw input estimate, to correct the next pages' (PageCostMeter). */
  rawInput: number;
}

const PAGES_IN_FLIGHT = 2;
/** A backfill that gave its slot up rejoins the queue after this long (ms): by then the waiting job has the slot. */
const YIELD_REQUEUE_MS = 250;
/** How often (ms) a running backfill asks whether a waiting tenant needs its slot (BackfillSlots caches its census as long). */
const YIELD_CHECK_MS = 250;

export interface BackfillRunOptions {
  /** The request key sealed to this backfill in its queue entry (BYOK headers), opened for the row's tenant. */
  sealedKey?: SealedRequestKey;
  /** The queue's view of the run: progress, and the shutdown and lease-lost signals. */
  context?: Pick<JobContext, 'progress' | 'shutdown' | 'leaseLost'>;
}

/** A page that may not commit: another run holds the job, or the workspace changed owner. Rolls the page's transaction back. */
class FenceError extends Error {
  override name = 'FenceError';
  constructor(readonly verdict: FenceVerdict) {
    super(`page not committed: ${verdict}`);
  }
}

/**
 * Runs one backfill: pre-flight first, then page by page from the checkpoint: fetch, extract with
 * bounded concurrency, and write graph, record failures, counters and checkpoint in one
 * transaction. A record whose answer cannot be used is stored as failed and the job goes on, within
 * its failure budget; a provider-wide failure ends the job. A crash at any point resumes from the
 * last committed page and produces exactly the same graph.
 */
@Injectable()
export class BackfillRunner {
  private readonly logger = new Logger(BackfillRunner.name);

  constructor(
    private readonly backfills: BackfillRepository,
    private readonly failures: RecordFailureRepository,
    private readonly preflight: BackfillPreflight,
    private readonly sources: RecordSourceFactory,
    private readonly extractor: GraphExtractor,
    private readonly graph: GraphRepository,
    private readonly transactions: TransactionService,
    private readonly sessions: ProviderSessions,
    private readonly validation: KeyValidationService,
    private readonly config: AppConfig,
    private readonly sealer: RequestKeySealer,
    private readonly metrics: Metrics,
    private readonly slots: BackfillSlots,
    private readonly budgets: BudgetService,
    private readonly usage: UsageRepository,
    private readonly mailboxes: MailboxRecordSources,
  ) {}

  /**
   * Runs (or resumes) a backfill to its end under a fresh lease, in one of its tenant's slots
   * (BackfillSlots): without one it is `deferred`, untouched. Typed failures end it `failed`
   * with their code; an untyped one (a database outage) is thrown, for the queue to retry from the
   * checkpoint. On shutdown the pages in flight are committed and the job is `released`; when its
   * tenant holds more than its fair share while another tenant waits, the same, and `deferred`; when the
   * lease is lost (another run claimed the job) this run stops calling the provider and commits
   * nothing more: `superseded`.
   */
  async run(backfillId: string, options: BackfillRunOptions = {}): Promise<JobRunResult> {
    const backfill = await this.load(backfillId);
    if (!backfill) return { status: 'skipped' };
    // a slot of its tenant's first (TENANT_MAX_ACTIVE_BACKFILLS, fair share): without one the job
    // goes back to the end of the queue, untouched, and another tenant's job takes the worker slot
    const admission = await this.slots.admit(backfill.tenantId, backfillId);
    if (!admission.admitted) {
      this.metrics.backfillSlotRefused(admission.reason);
      this.logger.debug({ backfillId, tenantId: backfill.tenantId, reason: admission.reason }, 'Backfill waits for a slot of its tenant');
      return { status: 'deferred', delayMs: admission.retryInMs };
    }
    const renewal = setInterval(() => void this.slots.renew(admission.lease), Math.max(100, Math.floor(this.slots.ttlMs / 3)));
    try {
      return await this.runInSlot(backfill, admission.lease, options);
    } finally {
      clearInterval(renewal);
      await this.slots.release(admission.lease);
    }
  }

  private async runInSlot(backfill: Backfill, slot: SlotLease, options: BackfillRunOptions): Promise<JobRunResult> {
    const source = this.sourceOf(backfill);
    try {
      return await this.runFrom(source, backfill, slot, options);
    } finally {
      // a mailbox's connection, whatever ended the run
      await source.close?.();
    }
  }

  private async runFrom(source: RecordSource, backfill: Backfill, slot: SlotLease, options: BackfillRunOptions): Promise<JobRunResult> {
    const backfillId = backfill.id;
    // from here on every read and write names the row's tenant
    const lease: BackfillLease = { backfillId, tenantId: backfill.tenantId, leaseToken: randomUUID() };
    if (!(await this.backfills.claim(lease))) return { status: 'skipped' };
    if (backfill.startedAt === null) this.metrics.backfillStarted((Date.now() - backfill.createdAt.getTime()) / 1_000);
    if (backfill.cancelRequested) return this.cancel(lease);

    let ready: PreflightResult;
    try {
      // the key is sealed to the job and the tenant that started it: it opens for no other
      const requestKey = options.sealedKey ? this.sealer.open(options.sealedKey, { jobId: backfillId, tenantId: backfill.tenantId }) : undefined;
      ready = await this.preflight.check(backfill.workspaceId, requestKey, backfillId);
      if (ready.tenant.tenantId !== backfill.tenantId) throw new WorkspaceTransferredError(backfill.workspaceId);
      // a source on another server (a mailbox) logs in after the key checks and before any fetch
      await source.open?.();
    } catch (error) {
      return this.failOn(lease, backfill, error);
    }
    const { key } = ready;
    await this.backfills.markRunning(lease, {
      provider: ready.provider,
      keySource: key.source,
      keyFingerprint: key.fingerprint,
      keyLast4: key.last4,
    });
    this.logger.log(
      { backfillId: backfill.id, workspaceId: backfill.workspaceId, provider: ready.provider, keySource: key.source, cursor: backfill.cursor },
      'Backfill running',
    );

    const counters: BackfillCounters = {
      recordsFetched: backfill.recordsFetched,
      recordsProcessed: backfill.recordsProcessed,
      recordsFailed: backfill.recordsFailed,
      itemsDropped: backfill.itemsDropped,
      entities: backfill.entities,
      relationships: backfill.relationships,
    };
    const budget = new FailureBudget(this.config.backfill, backfill.recordsProcessed, backfill.recordsFailed);
    // up to two pages are extracted at once through one pool, so there is no lull between pages;
    // pages are written strictly in order, each write overlapping the next page's extraction
    const pool = new FailFastPool(this.config.backfill.concurrency);
    // a draining run's calls get the tenant's permits first: its slot goes to the waiting tenant sooner
    const session = this.sessions.open({
      tenantId: ready.tenant.tenantId,
      jobId: backfill.id,
      jobKind: 'backfill',
      key,
      context: ready.context,
      model: ready.model,
      endpoint: ready.endpoint,
      urgent: () => pool.draining,
    });
    const leaseLost = options.context?.leaseLost;
    const shutdown = options.context?.shutdown;
    const stopOnLeaseLoss = () => pool.stop(new FenceError('lease-lost'));
    leaseLost?.addEventListener('abort', stopOnLeaseLoss, { once: true });
    const { model } = ready;
    const history = await this.usage.outputRatio(lease.tenantId, backfill.workspaceId, ready.provider, model);
    const meter = new PageCostMeter(ready.provider, model, this.config.usage, history ?? this.config.usage.outputRatio);
    // reservations of pages that have not committed: released whatever ends the run (a crash leaves them to expire)
    const reservations = new Set<string>();
    let budgetStop: BudgetExceededError | undefined;
    // the source could not give the next page (a mailbox unreachable after its retries): the pages in flight still commit
    let sourceFailure: AppError | undefined;
    const inFlight: PageInFlight[] = [];
    // pages started and not committed (in flight, awaited or being written): a fence rolls them back, their calls stay billed
    const uncommitted = new Set<PageInFlight>();
    let previousWrite: Promise<void> = Promise.resolve();
    let cursor = backfill.cursor;
    let exhausted = false;
    // the source has no more records: a drain that cut nothing leaves the backfill done
    let sourceDone = false;
    let cut = false;
    let released = false;
    // SIGTERM, or a waiting tenant needs the slot: records not yet started are left for the next run,
    // those in flight finish and commit (within a page, up to the last one that ran)
    const drainForShutdown = () => {
      released = true;
      pool.drain();
    };
    shutdown?.addEventListener('abort', drainForShutdown, { once: true });
    if (shutdown?.aborted) drainForShutdown();
    let yieldCheck: Promise<void> | undefined;
    const checkYield = () => {
      if (pool.draining || yieldCheck) return;
      yieldCheck = this.slots
        .shouldYield(slot)
        .then((give) => {
          // the slot is already given up: whatever else drains the pool now, no new record starts
          if (give) pool.drain();
        })
        .finally(() => (yieldCheck = undefined));
    };
    const yieldTimer = setInterval(checkYield, YIELD_CHECK_MS);
    try {
      for (;;) {
        while (!exhausted && inFlight.length < PAGES_IN_FLIGHT) {
          if (leaseLost?.aborted) break;
          if (pool.draining) {
            exhausted = true;
            break;
          }
          if (await this.backfills.isCancelRequested(lease.tenantId, backfill.id)) {
            await Promise.all(inFlight.map((p) => p.outcomes));
            await previousWrite;
            // the pages in flight are thrown away, but their calls were made and billed: they count
            await this.countUncommitted(session, uncommitted);
            return await this.cancel(lease);
          }
          let page: RecordPage;
          try {
            page = await source.fetchPage(cursor, this.config.backfill.pageSize, this.config.backfill.pageMaxBytes);
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            sourceFailure = error;
            exhausted = true;
            break;
          }
          if (page.records.length === 0) {
            exhausted = sourceDone = true;
            break;
          }
          // the page's estimated cost is held against the tenant's hard budget before any of it starts:
          // past the limit the backfill stops here, at a page boundary, its checkpoint the last committed page
          const estimate = meter.estimate(page.records);
          let reservation: string | null;
          try {
            reservation = (await this.budgets.reservePage(lease.tenantId, backfill.id, estimate.spend)).id;
          } catch (error) {
            if (!(error instanceof BudgetExceededError)) throw error;
            budgetStop = error;
            exhausted = true;
            break;
          }
          if (reservation) reservations.add(reservation);
          const started = { ...this.startPage(session, page, pool, budget), reservation, rawInput: estimate.rawInput };
          inFlight.push(started);
          uncommitted.add(started);
          if (page.nextCursor) cursor = page.nextCursor;
          else exhausted = sourceDone = true;
        }
        const current = inFlight.shift();
        if (!current) break;
        const outcomes = await current.outcomes;
        if (pool.failure) {
          await Promise.all(inFlight.map((p) => p.outcomes));
          await previousWrite.catch(() => undefined);
          if (pool.failure.error instanceof FenceError) {
            await this.countUncommitted(session, uncommitted);
            return this.fenced(lease, backfill, pool.failure.error);
          }
          const failed = [current, ...inFlight];
          for (const page of failed) uncommitted.delete(page);
          await session.recordUsage(sumCounters(failed.map((p) => p.calls)), usageOutcomeOf(pool.failure.error));
          if (pool.failure.error instanceof AuthenticationError) await this.validation.markRefused(ready.tenant.tenantId, key);
          return await this.failOn(lease, backfill, pool.failure.error);
        }
        const ran = ranPrefix(current, outcomes);
        if (ran.page.records.length < current.page.records.length) cut = true;
        if (ran.page.records.length === 0) continue;
        await previousWrite;
        const write = this.writePage(lease, backfill, session, current, ran.page, ran.outcomes, counters, options).then(() => {
          uncommitted.delete(current);
          if (current.reservation) reservations.delete(current.reservation);
          meter.observe(current.rawInput, current.calls.inputTokens, current.calls.outputTokens);
        });
        write.catch(() => undefined); // awaited on the next turn; this only keeps it from counting as unhandled meanwhile
        previousWrite = write;
      }
      await previousWrite;
    } catch (error) {
      if (error instanceof FenceError) {
        pool.stop(error);
        await this.countUncommitted(session, uncommitted);
        return this.fenced(lease, backfill, error);
      }
      // the queue retries from the checkpoint; the calls this run made were billed all the same
      pool.stop(new FenceError('lease-lost'));
      await this.countUncommitted(session, uncommitted);
      throw error;
    } finally {
      clearInterval(yieldTimer);
      await yieldCheck;
      shutdown?.removeEventListener('abort', drainForShutdown);
      leaseLost?.removeEventListener('abort', stopOnLeaseLoss);
      // whatever ended the run (an outage, a lost lease), no record still queued in the pool starts
      pool.stop(new FenceError('lease-lost'));
      // whatever ended the run, every page that did not commit has its calls recorded before the holds
      // go: a budget read in between would see neither and let a job overspend
      await this.countUncommitted(session, uncommitted);
      await this.budgets
        .settle(lease.tenantId, [...reservations])
        .catch((error: unknown) =>
          this.logger.warn({ backfillId: backfill.id, error: String(error) }, 'Budget reservations not released; they expire'),
        );
    }
    if (leaseLost?.aborted) return this.fenced(lease, backfill, new FenceError('lease-lost'));
    if (sourceFailure) {
      // a cancel asked for while the source hung ends as the cancel it is
      if (await this.backfills.isCancelRequested(lease.tenantId, backfill.id)) return this.cancel(lease);
      // what committed stays: a new backfill continues after it (for a mailbox, after the last committed UID)
      const hint = resumeHint({ cursor: counters.recordsProcessed > backfill.recordsProcessed ? 'committed' : backfill.cursor });
      return this.failOn(lease, backfill, sourceFailure, hint);
    }
    if (budgetStop) {
      if (await this.backfills.isCancelRequested(lease.tenantId, backfill.id)) return this.cancel(lease);
      return this.failOn(lease, backfill, budgetStop);
    }
    if (pool.draining && !(sourceDone && !cut)) {
      // back to `queued` until a worker (shutdown) or a slot of its tenant (yield) takes it up again
      await this.backfills.requeue(lease);
      if (released) {
        this.logger.log({ backfillId: backfill.id, ...counters }, 'Backfill stopped at a checkpoint for shutdown; another worker resumes it');
        return { status: 'released' };
      }
      this.logger.log(
        { backfillId: backfill.id, tenantId: slot.tenantId },
        'Backfill gave its slot to a waiting tenant; it resumes from its checkpoint',
      );
      this.metrics.backfillYielded();
      return { status: 'deferred', delayMs: YIELD_REQUEUE_MS };
    }
    if (!(await this.backfills.finish(lease.tenantId, backfill.id, BackfillStatus.succeeded, undefined, lease.leaseToken)))
      return { status: 'superseded' };
    this.logger.log(
      { backfillId: backfill.id, ...counters },
      counters.recordsFailed > 0 ? 'Backfill succeeded with failed records' : 'Backfill succeeded',
    );
    return { status: 'succeeded' };
  }

  /**
   * Settles a backfill whose queue entry failed, completed or vanished while its row was still
   * active (JobReconciler, or the queue after the last attempt): failed, resumable.
   */
  async settleLost(backfillId: string, failure: JobFailure): Promise<boolean> {
    const backfill = await this.load(backfillId);
    if (!backfill) return false;
    const message = `${failure.message} ${resumeHint(backfill)}`;
    return this.backfills.finish(backfill.tenantId, backfillId, BackfillStatus.failed, { code: failure.code, message });
  }

  /** The job runtime knows a backfill by its id alone: it reads the row in the platform scope (its owner, then the row as that tenant's). */
  private async load(backfillId: string): Promise<Backfill | null> {
    return findInScope(
      PLATFORM_SCOPE,
      () => this.backfills.ownerOf(backfillId),
      (tenantId) => this.backfills.findById(tenantId, backfillId),
    );
  }

  /** A retry reads only the records its original could not extract (stored, whatever their source); a mailbox backfill reads the mailbox. */
  private sourceOf(backfill: Backfill): RecordSource {
    const source = backfill.source as RecordScope;
    if (backfill.retryOfId) return this.sources.failedIn(backfill.workspaceId, source, backfill.retryOfId);
    if (source === 'imap') return this.mailboxes.forWorkspace(backfill.tenantId, backfill.workspaceId);
    return this.sources.forWorkspace(backfill.workspaceId, source);
  }

  /** Starts every record of a page through the shared pool; settles when all of them have. */
  private startPage(
    session: ProviderSession,
    page: RecordPage,
    pool: FailFastPool,
    budget: FailureBudget,
  ): Pick<PageInFlight, 'page' | 'outcomes' | 'calls'> {
    const calls = newCallCounter();
    const call = session.counted(calls);
    const outcomes = Promise.allSettled(
      page.records.map((record) =>
        pool.run(async () => {
          const outcome = await this.extractor.extract(session.llm, record, call);
          // over budget, this throws: the pool stops starting records and the job fails EXTRACTION_FAILING
          if (outcome.ok) budget.succeeded();
          else budget.failedWith(outcome.failure);
          return outcome;
        }),
      ),
    );
    return { page, outcomes, calls };
  }

  /**
   * Graph, record failures, counters and checkpoint of one page in one transaction: a crash leaves
   * the page wholly done or not at all. A retry also takes the page's records out of the failures
   * of the backfill it retries, so a record that now succeeds is no longer listed as failed there.
   */
  private async writePage(
    lease: BackfillLease,
    backfill: Backfill,
    session: ProviderSession,
    inFlight: PageInFlight,
    page: RecordPage,
    outcomes: PromiseSettledResult<RecordExtraction>[],
    counters: BackfillCounters,
    options: BackfillRunOptions,
  ): Promise<void> {
    const pageGraph: PageGraph = emptyPageGraph();
    const failed: NewRecordFailure[] = [];
    let itemsDropped = 0;
    const previousAttempts = backfill.retryOfId
      ? await this.failures.attemptsOf(
          backfill.retryOfId,
          page.records.map((r) => r.id),
        )
      : new Map<string, number>();
    page.records.forEach((record, index) => {
      const settled = outcomes[index];
      // the pool only rejects after a failure, which ended the run before any write
      if (settled.status !== 'fulfilled') return;
      const outcome = settled.value;
      if (outcome.ok) {
        outcome.answers.forEach((answer) => mergeAnswer(pageGraph, record.id, answer));
        itemsDropped += outcome.droppedItems;
      } else {
        failed.push({ recordId: record.id, recordSeq: record.seq, ...outcome.failure, attempts: (previousAttempts.get(record.id) ?? 0) + 1 });
      }
    });
    const written = await this.transactions.run(async (tx) => {
      // the workspace is share-locked before the graph writes: a deletion or transfer that came first
      // fences the page here, not halfway through its inserts (a foreign-key error on rows it removed)
      const early = await this.backfills.workspaceFence(tx, lease);
      if (early) throw new FenceError(early);
      const counts = await this.graph.applyPage(tx, backfill.workspaceId, pageGraph);
      await this.failures.insertMany(tx, backfill.id, backfill.workspaceId, failed);
      if (backfill.retryOfId) {
        const released = await this.failures.remove(
          tx,
          backfill.retryOfId,
          page.records.map((r) => r.id),
        );
        await this.backfills.releaseFailed(tx, lease.tenantId, backfill.retryOfId, released);
      }
      const verdict = await this.backfills.advance(tx, lease, {
        cursor: page.nextCursor ?? checkpointAfter(page.records.at(-1)!),
        records: page.records.length,
        recordsFailed: failed.length,
        itemsDropped,
        newEntities: counts.newEntities,
        newRelationships: counts.newRelationships,
      });
      if (verdict) throw new FenceError(verdict);
      await session.recordUsage(inFlight.calls, 'ok', tx);
      // its actual cost is now in usage_daily: the page's hold goes in the same commit
      await this.budgets.settle(lease.tenantId, [inFlight.reservation], tx);
      return counts;
    });
    this.metrics.backfillPage(session.llm.provider, page.records.length, failed.length);
    counters.recordsFetched += page.records.length;
    counters.recordsProcessed += page.records.length;
    counters.recordsFailed += failed.length;
    counters.itemsDropped += itemsDropped;
    counters.entities += written.newEntities;
    counters.relationships += written.newRelationships;
    await options.context?.progress({ ...counters });
  }

  /** Typed errors end the backfill with their code and message (and `hint`, how to go on); anything else is left to the queue's retries. */
  private async failOn(lease: BackfillLease, backfill: Backfill, error: unknown, hint?: string): Promise<JobRunResult> {
    if (!(error instanceof AppError)) throw error;
    const failure = { code: error.code, message: hint ? `${error.message} ${hint}` : error.message };
    if (!(await this.backfills.finish(lease.tenantId, backfill.id, BackfillStatus.failed, failure, lease.leaseToken)))
      return { status: 'superseded' };
    this.logger.warn({ backfillId: backfill.id, workspaceId: backfill.workspaceId, code: error.code }, error.message);
    return { status: 'failed', failure };
  }

  /**
   * Records the usage of pages that will never commit (a fence rolled their write back or they were in
   * flight): their calls were made and billed. Their records that had not started do not start
   * (the caller stopped the pool); those running finish first, so their tokens count too.
   * A run that lost its lease to another counts them too: the provider billed both runs' calls, and
   * key_usage (and so the budget) is what the provider was sent, not what committed.
   */
  private async countUncommitted(session: ProviderSession, pages: Set<PageInFlight>): Promise<void> {
    // counted once, whichever of the run's exits gets here first
    const lost = [...pages];
    pages.clear();
    await Promise.all(lost.map((p) => p.outcomes));
    await session
      .recordUsage(sumCounters(lost.map((p) => p.calls)), 'ok')
      .catch((error: unknown) => this.logger.warn({ error: String(error) }, 'Usage of pages that did not commit not recorded'));
  }

  /** A page was refused by the fence: another run holds the job (this one stops), or its workspace changed owner or is being deleted (the job ends). */
  private async fenced(lease: BackfillLease, backfill: Backfill, error: FenceError): Promise<JobRunResult> {
    if (error.verdict === 'workspace-deleted') {
      // a workspace deletion with cancelActive asked it to stop; without, it must not write to a workspace on its way out
      if (await this.backfills.isCancelRequested(lease.tenantId, backfill.id)) return this.cancel(lease);
      return this.failOn(lease, backfill, new WorkspaceNotFoundError(backfill.workspaceId));
    }
    if (error.verdict === 'workspace-transferred') {
      // a transfer with cancelActive asked it to stop: it ends as the cancel it is
      if (await this.backfills.isCancelRequested(lease.tenantId, backfill.id)) return this.cancel(lease);
      return this.failOn(lease, backfill, new WorkspaceTransferredError(backfill.workspaceId));
    }
    this.logger.warn({ backfillId: backfill.id }, 'Backfill lease lost: this run stops without committing; the run that holds the job goes on');
    return { status: 'superseded' };
  }

  private async cancel(lease: BackfillLease): Promise<JobRunResult> {
    await this.backfills.finish(lease.tenantId, lease.backfillId, BackfillStatus.cancelled, undefined, lease.leaseToken);
    this.logger.log({ backfillId: lease.backfillId }, 'Backfill cancelled');
    return { status: 'cancelled' };
  }
}

/**
 * The records of a page that ran before the pool drained (always a prefix: FailFastPool starts tasks
 * in order), as a page of their own whose checkpoint is the last of them; the whole page when all ran.
 */
function ranPrefix(
  current: PageInFlight,
  outcomes: PromiseSettledResult<RecordExtraction | typeof NOT_STARTED>[],
): { page: RecordPage; outcomes: PromiseSettledResult<RecordExtraction>[] } {
  const ran = outcomes.findIndex((outcome) => outcome.status === 'fulfilled' && outcome.value === NOT_STARTED);
  if (ran === -1) return { page: current.page, outcomes: outcomes as PromiseSettledResult<RecordExtraction>[] };
  const records = current.page.records.slice(0, ran);
  return {
    page: { ...current.page, records, nextCursor: records.length > 0 ? checkpointAfter(records.at(-1)!) : null },
    outcomes: outcomes.slice(0, ran) as PromiseSettledResult<RecordExtraction>[],
  };
}

/** The checkpoint once `record` is committed: its source's own (a mailbox's folder and UID), else its `seq`. */
function checkpointAfter(record: RecordForExtraction): string {
  return record.cursorAfter ?? record.seq.toString();
}

/** What a tenant can do about a backfill that stopped: start again, and it continues from its checkpoint. */
export function resumeHint(backfill: Pick<Backfill, 'cursor'>): string {
  return backfill.cursor === null
    ? 'Start a backfill again to run it from the beginning.'
    : 'Start a backfill again: it resumes from its checkpoint, and records already committed are not sent to the provider again.';
}

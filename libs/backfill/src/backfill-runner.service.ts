import { Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode, type RequestKey } from '#libs/common';
import { AppConfig } from '#libs/config';
import { type Backfill, BackfillStatus, TransactionService } from '#libs/database';
import { emptyPageGraph, GraphExtractor, GraphRepository, mergeAnswer, type PageGraph, type RecordExtraction } from '#libs/graphrag';
import { AuthenticationError } from '#libs/llm';
import { type RecordPage, type RecordSource, RecordSourceFactory, type RecordSourceName } from '#libs/records';
import { type CallCounter, KeyValidationService, type ProviderSession, ProviderSessions, usageOutcomeOf } from '#libs/tenant-llm';
import { BackfillPreflight, type PreflightResult } from './backfill-preflight.service.js';
import { BackfillRepository } from './backfill.repository.js';
import { FailFastPool } from './fail-fast-pool.js';
import { FailureBudget } from './failure-budget.js';
import { type NewRecordFailure, RecordFailureRepository } from './record-failure.repository.js';

export interface BackfillCounters {
  recordsFetched: number;
  recordsProcessed: number;
  recordsFailed: number;
  itemsDropped: number;
  entities: number;
  relationships: number;
}

export type BackfillRunResult = { status: 'succeeded' | 'cancelled' | 'skipped' } | { status: 'failed'; failure: { code: string; message: string } };

interface PageInFlight {
  page: RecordPage;
  outcomes: Promise<PromiseSettledResult<RecordExtraction>[]>;
  calls: CallCounter;
}

const PAGES_IN_FLIGHT = 2;

export interface BackfillRunOptions {
  onProgress?: (counters: BackfillCounters) => Promise<void> | void;
  /** A key sent with the request that started the backfill (BYOK headers). */
  requestKey?: RequestKey;
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
  ) {}

  /**
   * Runs (or resumes) a backfill to its end. Typed failures end it `failed` with their code; an
   * untyped one (a database outage) is thrown, for the queue to retry from the checkpoint.
   */
  async run(backfillId: string, options: BackfillRunOptions = {}): Promise<BackfillRunResult> {
    const backfill = await this.backfills.findById(backfillId);
    if (!backfill || !(await this.backfills.markPreflight(backfillId))) return { status: 'skipped' };
    if (backfill.cancelRequested) return this.cancel(backfill);

    let ready: PreflightResult;
    try {
      ready = await this.preflight.check(backfill.workspaceId, options.requestKey);
    } catch (error) {
      return this.failOn(backfill, error);
    }
    const { key } = ready;
    await this.backfills.markRunning(backfill.id, {
      provider: ready.provider,
      keySource: key.source,
      keyFingerprint: key.fingerprint,
      keyLast4: key.last4,
    });
    this.logger.log(
      { backfillId: backfill.id, workspaceId: backfill.workspaceId, provider: ready.provider, keySource: key.source },
      'Backfill running',
    );

    const session = this.sessions.open({ tenantId: ready.tenant.tenantId, jobId: backfill.id, jobKind: 'backfill', key, context: ready.context });
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
    const source = this.sourceOf(backfill);
    const inFlight: PageInFlight[] = [];
    let previousWrite: Promise<void> = Promise.resolve();
    let cursor = backfill.cursor;
    let exhausted = false;
    for (;;) {
      while (!exhausted && inFlight.length < PAGES_IN_FLIGHT) {
        if (await this.backfills.isCancelRequested(backfill.id)) {
          await Promise.all(inFlight.map((p) => p.outcomes));
          await previousWrite;
          return this.cancel(backfill);
        }
        const page = await source.fetchPage(cursor, this.config.backfill.pageSize, this.config.backfill.pageMaxBytes);
        if (page.records.length === 0) {
          exhausted = true;
          break;
        }
        inFlight.push(this.startPage(session, page, pool, budget));
        if (page.nextCursor) cursor = page.nextCursor;
        else exhausted = true;
      }
      const current = inFlight.shift();
      if (!current) break;
      const outcomes = await current.outcomes;
      if (pool.failure) {
        await Promise.all(inFlight.map((p) => p.outcomes));
        await previousWrite;
        const calls = [current, ...inFlight].reduce((sum, p) => sum + p.calls.count, 0);
        await session.recordUsage(calls, usageOutcomeOf(pool.failure.error));
        if (pool.failure.error instanceof AuthenticationError) await this.validation.markRefused(ready.tenant.tenantId, key);
        return this.failOn(backfill, pool.failure.error);
      }
      await previousWrite;
      const write = this.writePage(backfill, session, current, outcomes, counters, options);
      write.catch(() => undefined); // awaited on the next turn; this only keeps it from counting as unhandled meanwhile
      previousWrite = write;
    }
    await previousWrite;
    await this.backfills.finish(backfill.id, BackfillStatus.succeeded);
    this.logger.log(
      { backfillId: backfill.id, ...counters },
      counters.recordsFailed > 0 ? 'Backfill succeeded with failed records' : 'Backfill succeeded',
    );
    return { status: 'succeeded' };
  }

  /** Called by the queue when a backfill failed on something untyped for the last time. */
  async failUnexpectedly(backfillId: string): Promise<void> {
    await this.backfills.finish(backfillId, BackfillStatus.failed, {
      code: ErrorCode.Internal,
      message: 'The backfill stopped on an internal error; it resumes from its checkpoint when started again.',
    });
  }

  /**
   * Ends a backfill that cannot start with a typed error (e.g. its sealed key does not open).
   * @throws the error itself when it is untyped, for the queue to retry
   */
  async refuse(backfillId: string, error: unknown): Promise<BackfillRunResult> {
    const backfill = await this.backfills.findById(backfillId);
    if (!backfill) return { status: 'skipped' };
    return this.failOn(backfill, error);
  }

  /** A retry reads only the records its original could not extract. */
  private sourceOf(backfill: Backfill): RecordSource {
    const source = backfill.source as RecordSourceName;
    return backfill.retryOfId
      ? this.sources.failedIn(backfill.workspaceId, source, backfill.retryOfId)
      : this.sources.forWorkspace(backfill.workspaceId, source);
  }

  /** Starts every record of a page through the shared pool; settles when all of them have. */
  private startPage(session: ProviderSession, page: RecordPage, pool: FailFastPool, budget: FailureBudget): PageInFlight {
    const calls: CallCounter = { count: 0 };
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
    backfill: Backfill,
    session: ProviderSession,
    current: PageInFlight,
    outcomes: PromiseSettledResult<RecordExtraction>[],
    counters: BackfillCounters,
    options: BackfillRunOptions,
  ): Promise<void> {
    const { page } = current;
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
      const counts = await this.graph.applyPage(tx, backfill.workspaceId, pageGraph);
      await this.failures.insertMany(tx, backfill.id, backfill.workspaceId, failed);
      if (backfill.retryOfId) {
        const released = await this.failures.remove(
          tx,
          backfill.retryOfId,
          page.records.map((r) => r.id),
        );
        await this.backfills.releaseFailed(tx, backfill.retryOfId, released);
      }
      await this.backfills.advance(tx, backfill.id, {
        cursor: page.nextCursor ?? page.records.at(-1)!.seq.toString(),
        records: page.records.length,
        recordsFailed: failed.length,
        itemsDropped,
        newEntities: counts.newEntities,
        newRelationships: counts.newRelationships,
      });
      return counts;
    });
    await session.recordUsage(current.calls.count, 'ok');
    counters.recordsFetched += page.records.length;
    counters.recordsProcessed += page.records.length;
    counters.recordsFailed += failed.length;
    counters.itemsDropped += itemsDropped;
    counters.entities += written.newEntities;
    counters.relationships += written.newRelationships;
    await options.onProgress?.({ ...counters });
  }

  /** Typed errors end the backfill with their code and message; anything else is left to the queue's retries. */
  private async failOn(backfill: Backfill, error: unknown): Promise<BackfillRunResult> {
    if (!(error instanceof AppError)) throw error;
    const failure = { code: error.code, message: error.message };
    await this.backfills.finish(backfill.id, BackfillStatus.failed, failure);
    this.logger.warn({ backfillId: backfill.id, workspaceId: backfill.workspaceId, code: error.code }, error.message);
    return { status: 'failed', failure };
  }

  private async cancel(backfill: Backfill): Promise<BackfillRunResult> {
    await this.backfills.finish(backfill.id, BackfillStatus.cancelled);
    this.logger.log({ backfillId: backfill.id }, 'Backfill cancelled');
    return { status: 'cancelled' };
  }
}

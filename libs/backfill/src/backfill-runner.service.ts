import { Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode, type RequestKey } from '#libs/common';
import { AppConfig } from '#libs/config';
import { type Backfill, BackfillStatus, TransactionService } from '#libs/database';
import { emptyPageGraph, type ExtractionAnswer, GraphExtractor, GraphRepository, mergeAnswer, type PageGraph } from '#libs/graphrag';
import { AuthenticationError } from '#libs/llm';
import { type RecordPage, RecordSourceFactory, type RecordSourceName } from '#libs/records';
import { type CallCounter, KeyValidationService, type ProviderSession, ProviderSessions, usageOutcomeOf } from '#libs/tenant-llm';
import { BackfillPreflight, type PreflightResult } from './backfill-preflight.service.js';
import { BackfillRepository } from './backfill.repository.js';
import { FailFastPool } from './fail-fast-pool.js';

export interface BackfillCounters {
  recordsFetched: number;
  recordsProcessed: number;
  entities: number;
  relationships: number;
}

export type BackfillRunResult = { status: 'succeeded' | 'cancelled' | 'skipped' } | { status: 'failed'; failure: { code: string; message: string } };

interface PageInFlight {
  page: RecordPage;
  answers: Promise<PromiseSettledResult<ExtractionAnswer[]>[]>;
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
 * bounded concurrency, and write graph, counters and checkpoint in one transaction. A crash at any
 * point resumes from the last committed page and produces exactly the same graph.
 */
@Injectable()
export class BackfillRunner {
  private readonly logger = new Logger(BackfillRunner.name);

  constructor(
    private readonly backfills: BackfillRepository,
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
    const source = this.sources.forWorkspace(backfill.workspaceId, backfill.source as RecordSourceName);
    const counters: BackfillCounters = {
      recordsFetched: backfill.recordsFetched,
      recordsProcessed: backfill.recordsProcessed,
      entities: backfill.entities,
      relationships: backfill.relationships,
    };
    // up to two pages are extracted at once through one pool, so there is no lull between pages;
    // pages are written strictly in order, each write overlapping the next page's extraction
    const pool = new FailFastPool(this.config.backfill.concurrency);
    const inFlight: PageInFlight[] = [];
    let previousWrite: Promise<void> = Promise.resolve();
    let cursor = backfill.cursor;
    let exhausted = false;
    for (;;) {
      while (!exhausted && inFlight.length < PAGES_IN_FLIGHT) {
        if (await this.backfills.isCancelRequested(backfill.id)) {
          await Promise.all(inFlight.map((p) => p.answers));
          await previousWrite;
          return this.cancel(backfill);
        }
        const page = await source.fetchPage(cursor, this.config.backfill.pageSize);
        if (page.records.length === 0) {
          exhausted = true;
          break;
        }
        inFlight.push(this.startPage(session, page, pool));
        if (page.nextCursor) cursor = page.nextCursor;
        else exhausted = true;
      }
      const current = inFlight.shift();
      if (!current) break;
      const answers = await current.answers;
      if (pool.failure) {
        await Promise.all(inFlight.map((p) => p.answers));
        await previousWrite;
        const calls = [current, ...inFlight].reduce((sum, p) => sum + p.calls.count, 0);
        await session.recordUsage(calls, usageOutcomeOf(pool.failure.error));
        if (pool.failure.error instanceof AuthenticationError) await this.validation.markRefused(ready.tenant.tenantId, key);
        return this.failOn(backfill, pool.failure.error);
      }
      const pageGraph = emptyPageGraph();
      current.page.records.forEach((record, index) => {
        const result = answers[index];
        if (result.status === 'fulfilled') result.value.forEach((answer) => mergeAnswer(pageGraph, record.id, answer));
      });
      await previousWrite;
      const write = this.writePage(backfill, session, current.page, pageGraph, current.calls.count, counters, options);
      write.catch(() => undefined); // awaited on the next turn; this only keeps it from counting as unhandled meanwhile
      previousWrite = write;
    }
    await previousWrite;
    await this.backfills.finish(backfill.id, BackfillStatus.succeeded);
    this.logger.log({ backfillId: backfill.id, ...counters }, 'Backfill succeeded');
    return { status: 'succeeded' };
  }

  /** Graph, counters and checkpoint of one page in one transaction: a crash leaves the page wholly done or not at all. */
  private async writePage(
    backfill: Backfill,
    session: ProviderSession,
    page: RecordPage,
    pageGraph: PageGraph,
    calls: number,
    counters: BackfillCounters,
    options: BackfillRunOptions,
  ): Promise<void> {
    const written = await this.transactions.run(async (tx) => {
      const counts = await this.graph.applyPage(tx, backfill.workspaceId, pageGraph);
      await this.backfills.advance(tx, backfill.id, {
        cursor: page.nextCursor ?? page.records.at(-1)!.seq.toString(),
        records: page.records.length,
        newEntities: counts.newEntities,
        newRelationships: counts.newRelationships,
      });
      return counts;
    });
    await session.recordUsage(calls, 'ok');
    counters.recordsFetched += page.records.length;
    counters.recordsProcessed += page.records.length;
    counters.entities += written.newEntities;
    counters.relationships += written.newRelationships;
    await options.onProgress?.({ ...counters });
  }

  /** Called by the queue when a backfill failed on something untyped for the last time. */
  async failUnexpectedly(backfillId: string): Promise<void> {
    await this.backfills.finish(backfillId, BackfillStatus.failed, {
      code: ErrorCode.Internal,
      message: 'The backfill stopped on an internal error; it resumes from its checkpoint when started again.',
    });
  }

  /** Starts every record of a page through the shared pool; settles when all of them have. */
  private startPage(session: ProviderSession, page: RecordPage, pool: FailFastPool): PageInFlight {
    const calls: CallCounter = { count: 0 };
    const call = session.counted(calls);
    const answers = Promise.allSettled(page.records.map((record) => pool.run(() => this.extractor.extract(session.llm, record, call))));
    return { page, answers, calls };
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

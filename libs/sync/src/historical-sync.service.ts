import { Injectable, Logger } from '@nestjs/common';
import { apiKeySettingFor, AppError, ErrorCode, type ProviderId } from '#libs/common';
import { AppConfig } from '#libs/config';
import { ByokKeyStore, type KeyUsageOutcome, KeyUsageRepository, usageOutcomeOf } from '#libs/byok';
import { type SyncJob, SyncJobStatus, TransactionService, ValidationStatus } from '#libs/database';
import { emptyPageGraph, type ExtractionAnswer, GraphExtractor, GraphRepository, mergeAnswer, type PageGraph, type ProviderCall } from '#libs/graphrag';
import { AuthenticationError, KeyValidator, LlmClientFactory, type LlmProvider, withProviderRetry } from '#libs/llm';
import { BackfillPreflight, type PreflightResult } from './backfill-preflight.service.js';
import { ConcurrencyLimiter } from './bounded-pool.js';
import { type RecordPage, RecordSourceFactory } from './record-source.js';
import type { RecordSourceName } from './source-record.js';
import { SyncJobRepository } from './sync-job.repository.js';

export interface BackfillCounters {
  recordsFetched: number;
  recordsProcessed: number;
  entities: number;
  relationships: number;
}

export type BackfillRunResult =
  | { status: 'succeeded' | 'cancelled' | 'skipped' }
  | { status: 'failed'; failure: { code: string; message: string } };

interface PageInFlight {
  page: RecordPage;
  answers: Promise<PromiseSettledResult<ExtractionAnswer[]>[]>;
  calls: { count: number };
}

const PAGES_IN_FLIGHT = 2;

export interface BackfillRunOptions {
  onProgress?: (counters: BackfillCounters) => Promise<void> | void;
  /** A key sent with the request that started the backfill (BYOK headers). */
  requestKey?: { provider: ProviderId; key: string };
}

/**
 * Runs one backfill: pre-flight first, then page by page from the checkpoint: fetch, extract with
 * bounded concurrency, and write graph, counters and checkpoint in one transaction. A crash at any
 * point resumes from the last committed page and produces exactly the same graph.
 */
@Injectable()
export class HistoricalSyncService {
  private readonly logger = new Logger(HistoricalSyncService.name);

  constructor(
    private readonly jobs: SyncJobRepository,
    private readonly preflight: BackfillPreflight,
    private readonly sources: RecordSourceFactory,
    private readonly extractor: GraphExtractor,
    private readonly graph: GraphRepository,
    private readonly transactions: TransactionService,
    private readonly factory: LlmClientFactory,
    private readonly validator: KeyValidator,
    private readonly store: ByokKeyStore,
    private readonly usage: KeyUsageRepository,
    private readonly config: AppConfig,
  ) {}

  async run(syncJobId: string, options: BackfillRunOptions = {}): Promise<BackfillRunResult> {
    const job = await this.jobs.findById(syncJobId);
    if (!job || !(await this.jobs.markPreflight(syncJobId))) return { status: 'skipped' };
    if (job.cancelRequested) return this.cancel(job);

    let ready: PreflightResult;
    try {
      ready = await this.preflight.check(job.workspaceId, options.requestKey);
    } catch (error) {
      return this.failOn(job, error);
    }
    const { key } = ready;
    await this.jobs.markRunning(job.id, { provider: ready.provider, keySource: key.source, keyFingerprint: key.fingerprint, keyLast4: key.last4 });
    this.logger.log({ jobId: job.id, workspaceId: job.workspaceId, provider: ready.provider, keySource: key.source }, 'Backfill running');

    const llm = this.factory.create(ready.provider, key.key, ready.context);
    const source = this.sources.forWorkspace(job.workspaceId, job.source as RecordSourceName);
    const counters: BackfillCounters = {
      recordsFetched: job.recordsFetched,
      recordsProcessed: job.recordsProcessed,
      entities: job.entities,
      relationships: job.relationships,
    };
    // up to two pages are extracted at once through one limiter, so there is no lull between pages;
    // pages are written strictly in order, each write overlapping the next page's extraction
    const limiter = new ConcurrencyLimiter(this.config.sync.concurrency);
    const inFlight: PageInFlight[] = [];
    let previousWrite: Promise<void> = Promise.resolve();
    let cursor = job.cursor;
    let exhausted = false;
    for (;;) {
      while (!exhausted && inFlight.length < PAGES_IN_FLIGHT) {
        if (await this.jobs.isCancelRequested(job.id)) {
          await Promise.all(inFlight.map((p) => p.answers));
          await previousWrite;
          return this.cancel(job);
        }
        const page = await source.fetchPage(cursor, this.config.sync.pageSize);
        if (page.records.length === 0) {
          exhausted = true;
          break;
        }
        inFlight.push(this.startPage(llm, page, limiter));
        if (page.nextCursor) cursor = page.nextCursor;
        else exhausted = true;
      }
      const current = inFlight.shift();
      if (!current) break;
      const answers = await current.answers;
      if (limiter.failed) {
        await Promise.all(inFlight.map((p) => p.answers));
        await previousWrite;
        const calls = [current, ...inFlight].reduce((sum, p) => sum + p.calls.count, 0);
        await this.recordUsage(job, ready, calls, usageOutcomeOf(limiter.failure));
        if (limiter.failure instanceof AuthenticationError) await this.markKeyInvalid(ready);
        return this.failOn(job, limiter.failure);
      }
      const pageGraph = emptyPageGraph();
      current.page.records.forEach((record, index) => {
        const result = answers[index];
        if (result.status === 'fulfilled') result.value.forEach((answer) => mergeAnswer(pageGraph, record.id, answer));
      });
      await previousWrite;
      const write = this.writePage(job, ready, current.page, pageGraph, current.calls.count, counters, options);
      write.catch(() => undefined); // awaited on the next turn; this only keeps it from counting as unhandled meanwhile
      previousWrite = write;
    }
    await previousWrite;
    await this.jobs.finish(job.id, SyncJobStatus.succeeded);
    this.logger.log({ jobId: job.id, ...counters }, 'Backfill succeeded');
    return { status: 'succeeded' };
  }

  /** Graph, counters and checkpoint of one page in one transaction: a crash leaves the page wholly done or not at all. */
  private async writePage(
    job: SyncJob,
    ready: PreflightResult,
    page: RecordPage,
    pageGraph: PageGraph,
    calls: number,
    counters: BackfillCounters,
    options: BackfillRunOptions,
  ): Promise<void> {
    const written = await this.transactions.run(async (tx) => {
      const counts = await this.graph.applyPage(tx, job.workspaceId, pageGraph);
      await this.jobs.advance(tx, job.id, {
        cursor: page.nextCursor ?? page.records.at(-1)!.seq.toString(),
        records: page.records.length,
        newEntities: counts.newEntities,
        newRelationships: counts.newRelationships,
      });
      return counts;
    });
    await this.recordUsage(job, ready, calls, 'ok');
    counters.recordsFetched += page.records.length;
    counters.recordsProcessed += page.records.length;
    counters.entities += written.newEntities;
    counters.relationships += written.newRelationships;
    await options.onProgress?.({ ...counters });
  }

  /** Called by the queue when a job failed on something untyped for the last time. */
  async failUnexpectedly(syncJobId: string): Promise<void> {
    await this.jobs.finish(syncJobId, SyncJobStatus.failed, {
      code: ErrorCode.Internal,
      message: 'The backfill stopped on an internal error; it resumes from its checkpoint when started again.',
    });
  }

  /** Starts every record of a page through the shared limiter; settles when all of them have. */
  private startPage(llm: LlmProvider, page: RecordPage, limiter: ConcurrencyLimiter): PageInFlight {
    const policy = { maxAttempts: this.config.sync.providerMaxAttempts, baseDelayMs: this.config.sync.providerRetryBaseMs };
    const calls = { count: 0 };
    const countedCall: ProviderCall = (call) =>
      withProviderRetry(policy, () => {
        calls.count++;
        return call();
      });
    const answers = Promise.allSettled(page.records.map((record) => limiter.run(() => this.extractor.extract(llm, record, countedCall))));
    return { page, answers, calls };
  }

  /** Typed errors end the job with their code and message; anything else is left to the queue's retries. */
  private async failOn(job: SyncJob, error: unknown): Promise<BackfillRunResult> {
    if (!(error instanceof AppError)) throw error;
    const failure = { code: error.code, message: error.message };
    await this.jobs.finish(job.id, SyncJobStatus.failed, failure);
    this.logger.warn({ jobId: job.id, workspaceId: job.workspaceId, code: error.code }, error.message);
    return { status: 'failed', failure };
  }

  private async cancel(job: SyncJob): Promise<BackfillRunResult> {
    await this.jobs.finish(job.id, SyncJobStatus.cancelled);
    this.logger.log({ jobId: job.id }, 'Backfill cancelled');
    return { status: 'cancelled' };
  }

  /** A key the provider refused mid-run is marked invalid, so the next pre-flight stops at once. */
  private async markKeyInvalid(ready: PreflightResult): Promise<void> {
    this.validator.forget(ready.provider, ready.key.fingerprint);
    if (ready.key.source !== 'tenant') return;
    await this.store.recordValidation(ready.tenant.tenantId, apiKeySettingFor(ready.provider), ready.key.fingerprint, ValidationStatus.invalid);
  }

  private recordUsage(job: SyncJob, ready: PreflightResult, calls: number, outcome: KeyUsageOutcome): Promise<void> {
    if (calls === 0) return Promise.resolve();
    return this.usage.record({ tenantId: ready.tenant.tenantId, jobId: job.id, jobKind: 'backfill', key: ready.key, calls, outcome });
  }
}

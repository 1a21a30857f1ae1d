import { Injectable, Logger } from '@nestjs/common';
import { type KeyUsageOutcome, RequestKeySealer } from '#libs/byok';
import { AppError, type SealedRequestKey } from '#libs/common';
import { type AiJob, AiJobStatus } from '#libs/database';
import { emptyPageGraph, type ExtractionAnswer, GraphExtractor, mergeAnswer, type RecordExtraction } from '#libs/graphrag';
import type { JobFailure, UnfinishedJob } from '#libs/queue';
import { PLATFORM_SCOPE, findInScope, TenantResolver } from '#libs/tenancy';
import { JobPreflight, newCallCounter, ProviderSessions, usageOutcomeOf } from '#libs/tenant-llm';
import { type AiJobInput, AiJobRepository } from './ai-job.repository.js';

export type AiJobRunResult = { status: 'succeeded' | 'skipped' } | { status: 'failed'; failure: { code: string; message: string } };

/**
 * Runs one extract job in the worker: the pre-flight every job runs (JobPreflight) picks the key (the
 * request's, opened from the queue, or else by the tenant's key mode) and refuses a job that cannot
 * run before any provider call; a failure is stored as { code, message }.
 */
@Injectable()
export class AiJobRunner {
  private readonly logger = new Logger(AiJobRunner.name);

  constructor(
    private readonly jobs: AiJobRepository,
    private readonly tenants: TenantResolver,
    private readonly preflight: JobPreflight,
    private readonly sessions: ProviderSessions,
    private readonly extractor: GraphExtractor,
    private readonly sealer: RequestKeySealer,
  ) {}

  /**
   * Runs the job to its end; typed failures end it `failed` with their code, anything untyped is
   * thrown for the queue to retry.
   */
  async run(aiJobId: string, sealedKey?: SealedRequestKey): Promise<AiJobRunResult> {
    const job = await this.load(aiJobId);
    if (!job || job.status === AiJobStatus.succeeded || job.status === AiJobStatus.failed) return { status: 'skipped' };
    const input = job.input as unknown as AiJobInput;
    try {
      // sealed to this job and the tenant that sent it (the row's): it opens for no other
      const requestKey = sealedKey ? this.sealer.open(sealedKey, { jobId: job.id, tenantId: job.tenantId }) : undefined;
      const tenant = await this.tenants.tenant(job.tenantId);
      // the same pre-flight as a backfill (plan, key policy, placeholder and live key checks): a job
      // that cannot run fails here, before any call with the job's text
      const { provider, key, context, model, endpoint } = await this.preflight.check(tenant, {
        label: 'AI job',
        requestKey,
        provider: input.provider,
        jobId: job.id,
      });
      await this.jobs.markRunning(job.tenantId, job.id, { provider, keySource: key.source, keyLast4: key.last4 });
      const session = this.sessions.open({ tenantId: job.tenantId, jobId: job.id, jobKind: 'ai_job', key, context, model, endpoint });
      const calls = newCallCounter();
      let outcome: KeyUsageOutcome = 'ok';
      let extraction: RecordExtraction;
      try {
        extraction = await this.extractor.extract(
          session.llm,
          { id: job.id, fromAddr: '', toAddr: '', subject: '', body: input.text },
          session.counted(calls),
        );
      } catch (error) {
        outcome = usageOutcomeOf(error);
        throw error;
      } finally {
        await session.recordUsage(calls, outcome);
      }
      if (!extraction.ok) return await this.failWith(job, { code: extraction.failure.code, message: extraction.failure.reason });
      await this.jobs.succeed(job.tenantId, job.id, resultOf(job.id, extraction.answers));
      return { status: 'succeeded' };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return this.failWith(job, { code: error.code, message: error.message });
    }
  }

  /** AI jobs that have not ended, for the reconciler. */
  unfinished(): Promise<UnfinishedJob[]> {
    return this.jobs.unfinished();
  }

  /** Ends a job whose queue entry failed, completed or vanished while its row had not ended: failed, to be started again. */
  async settleLost(aiJobId: string, failure: JobFailure): Promise<boolean> {
    const job = await this.load(aiJobId);
    if (!job) return false;
    return this.jobs.fail(job.tenantId, job.id, { code: failure.code, message: `${failure.message} Start the AI job again.` });
  }

  /** The job runtime knows a job by its id alone: it reads the row in the platform scope (its owner, then the row as that tenant's). */
  private async load(aiJobId: string): Promise<AiJob | null> {
    return findInScope(
      PLATFORM_SCOPE,
      () => this.jobs.ownerOf(aiJobId),
      (tenantId) => this.jobs.findById(tenantId, aiJobId),
    );
  }

  private async failWith(job: AiJob, failure: { code: string; message: string }): Promise<AiJobRunResult> {
    await this.jobs.fail(job.tenantId, job.id, failure);
    this.logger.warn({ aiJobId: job.id, code: failure.code }, failure.message);
    return { status: 'failed', failure };
  }
}

/** The job's answers merged into one graph, named by entity rather than by internal key. */
function resultOf(jobId: string, answers: ExtractionAnswer[]) {
  const graph = emptyPageGraph();
  answers.forEach((answer) => mergeAnswer(graph, jobId, answer));
  const names = new Map([...graph.entities.values()].map((e) => [e.key, e.name]));
  return {
    entities: [...graph.entities.values()].map(({ name, type, description }) => ({ name, type, description })),
    relationships: [...graph.relationships.values()].map((r) => ({
      source: names.get(r.sourceKey),
      target: names.get(r.targetKey),
      description: r.description,
      strength: r.strength,
    })),
  };
}

import { Injectable, Logger } from '@nestjs/common';
import { ByokKeyStore, KeyResolver, type KeyUsageOutcome, KeyUsageRepository, type RequestKey, usageOutcomeOf } from '#libs/byok';
import { AppError, isProviderId, type ProviderId } from '#libs/common';
import { AppConfig } from '#libs/config';
import { AiJobStatus } from '#libs/database';
import { emptyPageGraph, GraphExtractor, mergeAnswer } from '#libs/graphrag';
import { LlmClientFactory, withProviderRetry } from '#libs/llm';
import { TenantResolver } from '#libs/tenancy';
import { type AiJobInput, AiJobRepository } from './ai-job.repository.js';

export type AiJobRunResult = { status: 'succeeded' | 'skipped' } | { status: 'failed'; failure: { code: string; message: string } };

/**
 * Runs one extract job in the worker: the key comes from the request (opened from the queue) or,
 * without one, from the tenant's key mode, through KeyResolver; a failure is stored as { code, message }.
 */
@Injectable()
export class AiJobRunner {
  private readonly logger = new Logger(AiJobRunner.name);

  constructor(
    private readonly jobs: AiJobRepository,
    private readonly tenants: TenantResolver,
    private readonly keys: KeyResolver,
    private readonly store: ByokKeyStore,
    private readonly factory: LlmClientFactory,
    private readonly extractor: GraphExtractor,
    private readonly usage: KeyUsageRepository,
    private readonly config: AppConfig,
  ) {}

  async run(aiJobId: string, requestKey?: RequestKey): Promise<AiJobRunResult> {
    const job = await this.jobs.findById(aiJobId);
    if (!job || job.status === AiJobStatus.succeeded || job.status === AiJobStatus.failed) return { status: 'skipped' };
    const input = job.input as unknown as AiJobInput;
    let calls = 0;
    try {
      const tenant = await this.tenants.tenant(job.tenantId);
      const provider = requestKey?.provider ?? (await this.providerFor(job.tenantId, input.provider));
      const key = await this.keys.resolve({ tenantId: job.tenantId, provider, requestKey: requestKey?.key });
      await this.jobs.markRunning(job.id, { provider, keySource: key.source, keyLast4: key.last4 });
      const llm = this.factory.create(provider, key.key, { tenantLabel: tenant.subdomain, keyLast4: key.last4 });
      const policy = { maxAttempts: this.config.sync.providerMaxAttempts, baseDelayMs: this.config.sync.providerRetryBaseMs };
      let outcome: KeyUsageOutcome = 'ok';
      try {
        const answers = await this.extractor.extract(llm, { id: job.id, fromAddr: '', toAddr: '', subject: '', body: input.text }, (call) =>
          withProviderRetry(policy, () => {
            calls++;
            return call();
          }),
        );
        const graph = emptyPageGraph();
        answers.forEach((answer) => mergeAnswer(graph, job.id, answer));
        const names = new Map([...graph.entities.values()].map((e) => [e.key, e.name]));
        await this.jobs.succeed(job.id, {
          entities: [...graph.entities.values()].map(({ name, type, description }) => ({ name, type, description })),
          relationships: [...graph.relationships.values()].map((r) => ({
            source: names.get(r.sourceKey),
            target: names.get(r.targetKey),
            description: r.description,
            strength: r.strength,
          })),
        });
      } catch (error) {
        outcome = usageOutcomeOf(error);
        throw error;
      } finally {
        if (calls > 0) await this.usage.record({ tenantId: job.tenantId, jobId: job.id, jobKind: 'ai_job', key, calls, outcome });
      }
      return { status: 'succeeded' };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const failure = { code: error.code, message: error.message };
      await this.jobs.fail(job.id, failure);
      this.logger.warn({ aiJobId: job.id, code: error.code }, error.message);
      return { status: 'failed', failure };
    }
  }

  private async providerFor(tenantId: string, requested: string | undefined): Promise<ProviderId> {
    if (isProviderId(requested)) return requested;
    const configured = await this.store.getPlain(tenantId, 'GRAPHRAG_PROVIDER');
    return isProviderId(configured) ? configured : 'openai';
  }
}

import { Injectable } from '@nestjs/common';
import type { ProviderId } from '#libs/common';
import { AppConfig, isPriced } from '#libs/config';
import { BackfillStatus } from '#libs/database';
import { DEFAULT_CHUNK_CHARS } from '#libs/graphrag';
import { ALL_SOURCES, type RecordScope, SourceRecordRepository } from '#libs/records';
import { TenantResolver, type TenantScope } from '#libs/tenancy';
import { ProviderChoice } from '#libs/tenant-llm';
import { estimateTokens, type TokenEstimate, UsageRepository } from '#libs/usage';
import { BackfillRepository } from './backfill.repository.js';

/** What a backfill would read and cost, before it starts. */
export interface BackfillEstimate extends TokenEstimate {
  records: number;
  /** Characters of the text the extractor would send (records as it formats them; the prompt not included). */
  characters: number;
  /** Provider calls at the least: one per chunk of each record. */
  calls: number;
  provider: ProviderId;
  /** The tenant's model for the provider (`<PROVIDER>_MODEL`, else the provider's default). */
  model: string;
  /** False when the price table has no price for the model: its estimated cost is then 0, not a real figure. */
  priced: boolean;
  pricesAsOf: string;
  /** The failed or cancelled backfill it would resume from: only the records after its checkpoint are counted. */
  resumedFrom: string | null;
  /** Where the output tokens per input token came from: the workspace's past backfills, or ESTIMATE_OUTPUT_RATIO. */
  outputRatioFrom: 'history' | 'default';
}

/**
 * Estimates a backfill from the workspace's own text, summed in Postgres (SourceRecordRepository.textStats),
 * for the provider the job would use (a request key's, else the tenant's GRAPHRAG_PROVIDER, else
 * openai: ProviderChoice, no key needed) and the tenant's model for it (ProviderChoice.modelFor), by the price table.
 */
@Injectable()
export class BackfillEstimator {
  constructor(
    private readonly tenants: TenantResolver,
    private readonly backfills: BackfillRepository,
    private readonly records: SourceRecordRepository,
    private readonly providers: ProviderChoice,
    private readonly usage: UsageRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * The same start point as BackfillService.start: after the last failed or cancelled backfill's
   * checkpoint unless `fromStart`.
   * @throws WorkspaceNotFoundError (missing, or another tenant's)
   */
  async estimate(
    scope: TenantScope,
    workspaceId: string,
    source: RecordScope,
    options: { fromStart?: boolean; provider?: ProviderId } = {},
  ): Promise<BackfillEstimate> {
    const { tenantId } = await this.tenants.resolveIn(scope, workspaceId);
    const last = options.fromStart ? null : await this.backfills.findLatestFull(tenantId, workspaceId, source);
    const resumable = last && (last.status === BackfillStatus.failed || last.status === BackfillStatus.cancelled) && last.cursor !== null;
    const afterSeq = resumable ? BigInt(last.cursor!) : 0n;
    const provider = options.provider ?? (await this.providers.forTenant(tenantId));
    const model = await this.providers.modelFor(tenantId, provider);
    const stats = await this.records.textStats(workspaceId, source === ALL_SOURCES ? null : source, afterSeq, DEFAULT_CHUNK_CHARS);
    const history = await this.usage.outputRatio(tenantId, workspaceId, provider, model);
    const { prices, charsPerToken, outputRatio } = this.config.usage;
    return {
      records: stats.records,
      characters: stats.characters,
      calls: stats.chunks,
      ...estimateTokens({
        characters: stats.characters,
        calls: stats.chunks,
        provider,
        model,
        charsPerToken,
        outputRatio: history ?? outputRatio,
        prices,
      }),
      provider,
      model,
      priced: isPriced(prices, provider, model),
      pricesAsOf: prices.pricesAsOf,
      resumedFrom: resumable ? last.id : null,
      outputRatioFrom: history === null ? 'default' : 'history',
    };
  }
}

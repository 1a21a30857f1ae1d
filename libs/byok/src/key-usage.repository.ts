import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '#libs/database';
import type { ResolvedKey } from './key-resolver.service.js';

/** How a batch of provider calls ended, as the audit records it (see usageOutcomeOf in libs/tenant-llm). */
export type KeyUsageOutcome = 'ok' | 'auth_failed' | 'rate_limited' | 'unavailable' | 'error';

/** One batch of provider calls made with one key for one job, with the tokens the provider reported. */
export interface KeyUsageEntry {
  tenantId: string;
  jobId: string;
  jobKind: 'backfill' | 'ai_job';
  key: ResolvedKey;
  calls: number;
  outcome: KeyUsageOutcome;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** What the price table made of the tokens, micro-USD. */
  costMicroUsd: number;
  /** When the calls are accounted: the row's created_at and the UTC day of the daily rollup. */
  at: Date;
}

/**
 * Audit of which key (by fingerprint and source, never the key) served which job, and what it used:
 * one key_usage row per batch, summed into usage_daily (tenant, UTC day, provider, model, key source)
 * by the same transaction, so the rollup never differs from the rows.
 */
@Injectable()
export class KeyUsageRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Stores one batch and adds it to the day's rollup; inside `tx` when given, so it commits (or not) with the work it paid for. */
  async record(entry: KeyUsageEntry, tx?: Tx): Promise<void> {
    if (!tx) return this.prisma.$transaction((own) => this.record(entry, own));
    await tx.keyUsage.create({
      data: {
        tenantId: entry.tenantId,
        jobId: entry.jobId,
        jobKind: entry.jobKind,
        provider: entry.key.provider,
        keySource: entry.key.source,
        keyFingerprint: entry.key.fingerprint,
        calls: entry.calls,
        outcome: entry.outcome,
        model: entry.model,
        inputTokens: entry.inputTokens,
        outputTokens: entry.outputTokens,
        costMicroUsd: entry.costMicroUsd,
        createdAt: entry.at,
      },
    });
    const day = entry.at.toISOString().slice(0, 10);
    await tx.$executeRaw`
      INSERT INTO usage_daily (tenant_id, day, provider, model, key_source, calls, input_tokens, output_tokens, cost_micro_usd)
      VALUES (${entry.tenantId}::uuid, ${day}::date, ${entry.key.provider}, ${entry.model}, ${entry.key.source},
              ${entry.calls}, ${entry.inputTokens}, ${entry.outputTokens}, ${entry.costMicroUsd})
      ON CONFLICT (tenant_id, day, provider, model, key_source) DO UPDATE SET
        calls = usage_daily.calls + EXCLUDED.calls,
        input_tokens = usage_daily.input_tokens + EXCLUDED.input_tokens,
        output_tokens = usage_daily.output_tokens + EXCLUDED.output_tokens,
        cost_micro_usd = usage_daily.cost_micro_usd + EXCLUDED.cost_micro_usd`;
  }
}

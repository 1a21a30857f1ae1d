import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '#libs/database';

/** Tokens and cost of a group of calls. */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** micro-USD (an integer; a number, exact up to 9e15 micro-USD, i.e. $9 billion). */
  costMicroUsd: number;
}

/** What a job's calls used, as backfill and AI-job answers show it; `model` null before its first call. */
export interface JobUsage {
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  model: string | null;
}

export type UsageGroupBy = 'day' | 'provider' | 'model' | 'job';

export interface UsageGroup extends UsageTotals {
  /** The group's key: a UTC day (YYYY-MM-DD), a provider, `provider/model`, or a job id. */
  key: string;
}

interface TotalsRow {
  key: string;
  calls: bigint | null;
  input_tokens: bigint | null;
  output_tokens: bigint | null;
  cost_micro_usd: bigint | null;
}

const totalsOf = (row: Omit<TotalsRow, 'key'>): UsageTotals => ({
  calls: Number(row.calls ?? 0n),
  inputTokens: Number(row.input_tokens ?? 0n),
  outputTokens: Number(row.output_tokens ?? 0n),
  costMicroUsd: Number(row.cost_micro_usd ?? 0n),
});

/** Reads of usage_daily (day, provider, model) and key_usage (per job); the tenant id first and in every WHERE. */
@Injectable()
export class UsageRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A tenant's usage in [fromDay, toDay) (UTC days), grouped; day, provider and model from the rollup, job from key_usage. */
  async grouped(tenantId: string, fromDay: string, toDay: string, groupBy: UsageGroupBy): Promise<UsageGroup[]> {
    if (groupBy === 'job') {
      const rows = await this.prisma.$queryRaw<TotalsRow[]>`
        SELECT job_id::text AS key, sum(calls)::bigint AS calls, sum(input_tokens)::bigint AS input_tokens,
               sum(output_tokens)::bigint AS output_tokens, sum(cost_micro_usd)::bigint AS cost_micro_usd
        FROM key_usage
        WHERE tenant_id = ${tenantId}::uuid AND created_at >= ${fromDay}::date AND created_at < ${toDay}::date
        GROUP BY job_id ORDER BY cost_micro_usd DESC, key LIMIT 1000`;
      return rows.map((row) => ({ key: row.key, ...totalsOf(row) }));
    }
    const key = {
      day: Prisma.sql`to_char(day, 'YYYY-MM-DD')`,
      provider: Prisma.sql`provider`,
      model: Prisma.sql`provider || '/' || model`,
    }[groupBy];
    const rows = await this.prisma.$queryRaw<TotalsRow[]>`
      SELECT ${key} AS key, sum(calls)::bigint AS calls, sum(input_tokens)::bigint AS input_tokens,
             sum(output_tokens)::bigint AS output_tokens, sum(cost_micro_usd)::bigint AS cost_micro_usd
      FROM usage_daily
      WHERE tenant_id = ${tenantId}::uuid AND day >= ${fromDay}::date AND day < ${toDay}::date
      GROUP BY 1 ORDER BY 1`;
    return rows.map((row) => ({ key: row.key, ...totalsOf(row) }));
  }

  /** A tenant's totals in [fromDay, toDay) (UTC days), from the rollup: all of them, not only the groups a report lists. */
  async totals(tenantId: string, fromDay: string, toDay: string): Promise<UsageTotals> {
    const rows = await this.prisma.$queryRaw<Omit<TotalsRow, 'key'>[]>`
      SELECT sum(calls)::bigint AS calls, sum(input_tokens)::bigint AS input_tokens,
             sum(output_tokens)::bigint AS output_tokens, sum(cost_micro_usd)::bigint AS cost_micro_usd
      FROM usage_daily
      WHERE tenant_id = ${tenantId}::uuid AND day >= ${fromDay}::date AND day < ${toDay}::date`;
    return totalsOf(rows[0] ?? { calls: null, input_tokens: null, output_tokens: null, cost_micro_usd: null });
  }

  /** What each of a tenant's jobs used (key_usage by job_id). */
  async perJob(tenantId: string, jobIds: readonly string[]): Promise<Map<string, JobUsage>> {
    if (jobIds.length === 0) return new Map();
    const rows = await this.prisma.$queryRaw<(Omit<TotalsRow, 'key' | 'calls'> & { job_id: string; model: string | null })[]>`
      SELECT job_id::text AS job_id, sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
             sum(cost_micro_usd)::bigint AS cost_micro_usd, max(NULLIF(model, '')) AS model
      FROM key_usage WHERE tenant_id = ${tenantId}::uuid AND job_id = ANY(${[...jobIds]}::uuid[])
      GROUP BY job_id`;
    return new Map(
      rows.map((row) => [
        row.job_id,
        {
          inputTokens: Number(row.input_tokens ?? 0n),
          outputTokens: Number(row.output_tokens ?? 0n),
          costMicroUsd: Number(row.cost_micro_usd ?? 0n),
          model: row.model,
        },
      ]),
    );
  }

  /** Output tokens per input token in a workspace's past backfills with `model`, or null without history. */
  async outputRatio(tenantId: string, workspaceId: string, provider: string, model: string): Promise<number | null> {
    const rows = await this.prisma.$queryRaw<{ input_tokens: bigint | null; output_tokens: bigint | null }[]>`
      SELECT sum(k.input_tokens)::bigint AS input_tokens, sum(k.output_tokens)::bigint AS output_tokens
      FROM key_usage k JOIN backfills b ON b.id = k.job_id AND b.tenant_id = k.tenant_id
      WHERE k.tenant_id = ${tenantId}::uuid AND b.workspace_id = ${workspaceId}::uuid AND k.provider = ${provider} AND k.model = ${model}`;
    const input = Number(rows[0]?.input_tokens ?? 0n);
    return input > 0 ? Number(rows[0]?.output_tokens ?? 0n) / input : null;
  }
}

/** A job's usage, zero before its first call. */
export function jobUsageOr(usage: JobUsage | undefined): JobUsage {
  return usage ?? { inputTokens: 0, outputTokens: 0, costMicroUsd: 0, model: null };
}

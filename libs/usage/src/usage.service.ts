import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '#libs/common';
import { type JobUsage, type UsageGroup, type UsageGroupBy, UsageRepository } from './usage.repository.js';

/** The longest range the usage API reads at once (days). */
export const MAX_USAGE_RANGE_DAYS = 366;

export interface UsageQuery {
  /** First UTC day (YYYY-MM-DD), included. */
  from: string;
  /** UTC day (YYYY-MM-DD) the range ends before. */
  to: string;
  groupBy: UsageGroupBy;
}

export interface UsageReport {
  from: string;
  to: string;
  groupBy: UsageGroupBy;
  items: UsageGroup[];
  totals: Omit<UsageGroup, 'key'>;
}

/** A tenant's usage, read for the API and for job answers. */
@Injectable()
export class UsageService {
  constructor(private readonly usage: UsageRepository) {}

  /**
   * Usage of a tenant in [from, to), grouped; totals over the whole range (by job, also over the jobs
   * past the 1,000 listed).
   * @throws ValidationFailedError when `to` is not after `from` or the range is longer than MAX_USAGE_RANGE_DAYS
   */
  async report(tenantId: string, query: UsageQuery): Promise<UsageReport> {
    const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000;
    if (!(days > 0)) throw new ValidationFailedError('to: must be a day after from (to is exclusive)');
    if (days > MAX_USAGE_RANGE_DAYS) throw new ValidationFailedError(`to: the range may span at most ${MAX_USAGE_RANGE_DAYS} days`);
    const items = await this.usage.grouped(tenantId, query.from, query.to, query.groupBy);
    // by job the items stop at the 1,000 costliest: the totals are the range's, read apart
    if (query.groupBy === 'job') return { ...query, items, totals: await this.usage.totals(tenantId, query.from, query.to) };
    const totals = items.reduce(
      (sum, item) => ({
        calls: sum.calls + item.calls,
        inputTokens: sum.inputTokens + item.inputTokens,
        outputTokens: sum.outputTokens + item.outputTokens,
        costMicroUsd: sum.costMicroUsd + item.costMicroUsd,
      }),
      { calls: 0, inputTokens: 0, outputTokens: 0, costMicroUsd: 0 },
    );
    return { ...query, items, totals };
  }

  /** What each of a tenant's jobs used so far. */
  perJob(tenantId: string, jobIds: readonly string[]): Promise<Map<string, JobUsage>> {
    return this.usage.perJob(tenantId, jobIds);
  }

  /**
   * What each job used, for jobs read in scope already (a platform list may hold several tenants'
   * jobs): each tenant's are read as that tenant's.
   */
  async perJobOf(jobs: readonly { id: string; tenantId: string }[]): Promise<Map<string, JobUsage>> {
    const byTenant = new Map<string, string[]>();
    for (const job of jobs) byTenant.set(job.tenantId, [...(byTenant.get(job.tenantId) ?? []), job.id]);
    const usage = new Map<string, JobUsage>();
    for (const [tenantId, ids] of byTenant) for (const [id, used] of await this.usage.perJob(tenantId, ids)) usage.set(id, used);
    return usage;
  }
}

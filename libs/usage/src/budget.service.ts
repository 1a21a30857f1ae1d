import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { PrismaService, type TenantBudget, type Tx } from '#libs/database';
import { WebhookPublisher } from '#libs/webhooks';
import { type BudgetValues, BudgetRepository, type Spend } from './budget.repository.js';
import { BudgetExceededError } from './usage.errors.js';
import { periodOf, UsageClock } from './usage-clock.js';

/** The thresholds (percent of the monthly limit) recorded once per tenant per period. */
export const BUDGET_THRESHOLDS = [80, 100] as const;

/** A budget as the API shows it: USD as decimal numbers (micro-USD / 1e6). */
export interface BudgetView {
  monthlyLimitUsd: number | null;
  monthlyLimitTokens: number | null;
  mode: 'alert' | 'hard';
  perJobLimitUsd: number | null;
  updatedAt: Date;
}

/** A tenant's budget (null when none is set) with what the current period has spent. */
export interface BudgetStatus {
  budget: BudgetView | null;
  /** The current period, `YYYY-MM` (UTC). */
  period: string;
  spent: { costMicroUsd: number; tokens: number };
}

export interface BudgetInput {
  monthlyLimitUsd?: number;
  monthlyLimitTokens?: number;
  mode: 'alert' | 'hard';
  perJobLimitUsd?: number;
}

/** A threshold crossed by the usage a transaction just recorded: the place `budget.threshold` webhooks hook in. */
export interface ThresholdCrossing {
  tenantId: string;
  period: string;
  threshold: (typeof BUDGET_THRESHOLDS)[number];
  spent: Spend;
}

/** A page's hold on its tenant's month; `id` null when the tenant has no hard budget (nothing held). */
export interface PageReservation {
  id: string | null;
}

const toMicro = (usd: number | undefined): bigint | null => (usd === undefined ? null : BigInt(Math.round(usd * 1_000_000)));
const toUsd = (micro: bigint | null): number | null => (micro === null ? null : Number(micro) / 1_000_000);

/**
 * Tenant budgets (calendar months in UTC), their checks and their thresholds. `hard` budgets refuse a
 * job at pre-flight once spent, and hold each backfill page's estimated cost (a reservation) before
 * the page starts, under a row lock on the tenant's budget row (SELECT ... FOR UPDATE), so the check
 * "spent + reserved + this page <= limit" and the reservation are one step for all of a tenant's
 * jobs in every worker. A page's commit deletes its reservation in the same transaction that adds its
 * actual cost to usage_daily; a run that dies leaves it to expire (BUDGET_RESERVATION_TTL_MS).
 * `alert` budgets never stop anything; both record their thresholds.
 */
@Injectable()
export class BudgetService {
  private readonly logger = new Logger(BudgetService.name);

  constructor(
    private readonly budgets: BudgetRepository,
    private readonly prisma: PrismaService,
    private readonly clock: UsageClock,
    private readonly config: AppConfig,
    private readonly webhooks: WebhookPublisher,
  ) {}

  /** The tenant's budget, null when none is set, and the current period's spend. */
  async get(tenantId: string): Promise<BudgetStatus> {
    const row = await this.budgets.find(tenantId);
    const period = periodOf(this.clock.now());
    const spent = await this.budgets.periodSpend(tenantId, period);
    return { budget: row ? viewOf(row) : null, period, spent: { costMicroUsd: Number(spent.microUsd), tokens: Number(spent.tokens) } };
  }

  /** Sets the tenant's budget (either limit, not both: the DTO checks it). */
  async put(tenantId: string, input: BudgetInput): Promise<BudgetStatus> {
    const values: BudgetValues = {
      monthlyLimitMicroUsd: toMicro(input.monthlyLimitUsd),
      monthlyLimitTokens: input.monthlyLimitTokens === undefined ? null : BigInt(input.monthlyLimitTokens),
      mode: input.mode,
      perJobLimitMicroUsd: toMicro(input.perJobLimitUsd),
    };
    await this.budgets.upsert(tenantId, values);
    return this.get(tenantId);
  }

  /** Removes the tenant's budget, if any (idempotent); its recorded thresholds stay. */
  async delete(tenantId: string): Promise<void> {
    await this.budgets.delete(tenantId);
  }

  /**
   * Pre-flight: refuses a job of a tenant whose hard budget is spent this month, or (`jobId`, a
   * resumed backfill counts its predecessors' spend under its own id only) whose per-job cap is.
   * @throws BudgetExceededError
   */
  async refuseWhenSpent(tenantId: string, jobId?: string): Promise<void> {
    const budget = await this.budgets.find(tenantId);
    if (!budget || budget.mode !== 'hard') return;
    const spent = await this.budgets.periodSpend(tenantId, periodOf(this.clock.now()));
    const over = overMonthly(budget, spent, { microUsd: 0n, tokens: 0n }, true);
    if (over) throw new BudgetExceededError('monthly', over);
    if (jobId && budget.perJobLimitMicroUsd !== null) {
      const job = await this.budgets.jobSpend(tenantId, jobId);
      if (job.microUsd >= budget.perJobLimitMicroUsd)
        throw new BudgetExceededError('per-job', `${usd(job.microUsd)} of ${usd(budget.perJobLimitMicroUsd)}`);
    }
  }

  /**
   * Holds `estimate` of the tenant's month (and of the job's cap) for one backfill page before it
   * starts: under the budget row's lock, spent + unexpired reservations + estimate must stay within
   * the limit. Nothing is held without a hard budget.
   * @throws BudgetExceededError when the page would pass the monthly limit or the job's cap
   */
  async reservePage(tenantId: string, jobId: string, estimate: Spend): Promise<PageReservation> {
    const budget = await this.budgets.find(tenantId);
    if (!budget || budget.mode !== 'hard') return { id: null };
    const now = this.clock.now();
    const period = periodOf(now);
    return this.prisma.$transaction(async (tx) => {
      const locked = await this.budgets.lock(tx, tenantId);
      if (!locked || locked.mode !== 'hard') return { id: null };
      const spentAndHeld = await this.budgets.spentAndHeld(tx, tenantId, period, now);
      const held = { microUsd: spentAndHeld.microUsd + estimate.microUsd, tokens: spentAndHeld.tokens + estimate.tokens };
      const over = overMonthly(locked, held, estimate, false);
      if (over) throw new BudgetExceededError('monthly', over);
      if (locked.perJobLimitMicroUsd !== null) {
        const job = await this.budgets.spentAndHeld(tx, tenantId, period, now, jobId);
        const total = job.microUsd + estimate.microUsd;
        if (total > locked.perJobLimitMicroUsd) {
          throw new BudgetExceededError(
            'per-job',
            `${usd(job.microUsd)} spent or held, the next page about ${usd(estimate.microUsd)}, cap ${usd(locked.perJobLimitMicroUsd)}`,
          );
        }
      }
      const id = randomUUID();
      await this.budgets.reserve(tx, {
        id,
        tenantId,
        period,
        jobId,
        spend: estimate,
        expiresAt: new Date(now.getTime() + this.config.usage.reservationTtlMs),
      });
      return { id };
    });
  }

  /** Settles reservations: inside the page's transaction (`tx`), which adds their actual cost; without, a release (a page that never commits). */
  async settle(tenantId: string, ids: readonly (string | null)[], tx?: Tx): Promise<void> {
    const held = ids.filter((id): id is string => id !== null);
    if (held.length) await this.budgets.release(tenantId, held, this.clock.now(), tx);
  }

  /**
   * Records the thresholds the tenant's month has now reached, once per period each, inside the
   * transaction that recorded the usage (so a crossing exists exactly when its usage does), and
   * publishes a `budget.threshold` webhook event for each in that same transaction (the outbox: the
   * event commits with the crossing, never without it, never twice). Returns the crossings this
   * transaction made.
   */
  async recordCrossings(tenantId: string, at: Date, tx: Tx): Promise<ThresholdCrossing[]> {
    const budget = await this.budgets.find(tenantId, tx);
    if (!budget) return [];
    const period = periodOf(at);
    const spent = await this.budgets.periodSpend(tenantId, period, tx);
    const crossings: ThresholdCrossing[] = [];
    for (const threshold of BUDGET_THRESHOLDS) {
      if (!reached(budget, spent, threshold)) continue;
      if (await this.budgets.insertThreshold(tx, tenantId, period, threshold, spent)) crossings.push({ tenantId, period, threshold, spent });
    }
    for (const crossing of crossings) {
      this.logger.log({ tenantId, period, threshold: crossing.threshold }, 'Budget threshold crossed');
      await this.webhooks.publish(tenantId, 'budget.threshold', thresholdEvent(budget, crossing), tx);
    }
    return crossings;
  }
}

/** A crossing as its webhook tells it: the period, the threshold, the limit and what was spent (USD or tokens as set). */
function thresholdEvent(budget: TenantBudget, crossing: ThresholdCrossing) {
  return {
    period: crossing.period,
    thresholdPercent: crossing.threshold,
    mode: budget.mode,
    monthlyLimitUsd: toUsd(budget.monthlyLimitMicroUsd),
    monthlyLimitTokens: budget.monthlyLimitTokens === null ? null : Number(budget.monthlyLimitTokens),
    spentUsd: Number(crossing.spent.microUsd) / 1_000_000,
    spentTokens: Number(crossing.spent.tokens),
  };
}

function viewOf(row: TenantBudget): BudgetView {
  return {
    monthlyLimitUsd: toUsd(row.monthlyLimitMicroUsd),
    monthlyLimitTokens: row.monthlyLimitTokens === null ? null : Number(row.monthlyLimitTokens),
    mode: row.mode as 'alert' | 'hard',
    perJobLimitUsd: toUsd(row.perJobLimitMicroUsd),
    updatedAt: row.updatedAt,
  };
}

function usd(micro: bigint): string {
  return `$${(Number(micro) / 1_000_000).toFixed(6)}`;
}

/** Whether `spent` reached `percent` of the monthly limit. */
function reached(budget: TenantBudget, spent: Spend, percent: number): boolean {
  if (budget.monthlyLimitMicroUsd !== null) return spent.microUsd * 100n >= budget.monthlyLimitMicroUsd * BigInt(percent);
  if (budget.monthlyLimitTokens !== null) return spent.tokens * 100n >= budget.monthlyLimitTokens * BigInt(percent);
  return false;
}

/**
 * Why `held` is over the monthly limit, or null. `reachedCounts`: pre-flight refuses at spent >= limit
 * (nothing left); a reservation is refused only past it (spent + reserved + page > limit).
 */
function overMonthly(budget: TenantBudget, held: Spend, page: Spend, reachedCounts: boolean): string | null {
  const past = (value: bigint, limit: bigint) => (reachedCounts ? value >= limit : value > limit);
  if (budget.monthlyLimitMicroUsd !== null && past(held.microUsd, budget.monthlyLimitMicroUsd)) {
    return reachedCounts
      ? `${usd(held.microUsd)} of ${usd(budget.monthlyLimitMicroUsd)}`
      : `${usd(held.microUsd - page.microUsd)} spent or held, the next page about ${usd(page.microUsd)}, limit ${usd(budget.monthlyLimitMicroUsd)}`;
  }
  if (budget.monthlyLimitTokens !== null && past(held.tokens, budget.monthlyLimitTokens)) {
    return reachedCounts
      ? `${held.tokens} of ${budget.monthlyLimitTokens} tokens`
      : `${held.tokens - page.tokens} tokens spent or held, the next page about ${page.tokens}, limit ${budget.monthlyLimitTokens}`;
  }
  return null;
}

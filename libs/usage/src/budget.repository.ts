import { Injectable } from '@nestjs/common';
import { PrismaService, type TenantBudget, type Tx } from '#libs/database';
import { periodDays } from './usage-clock.js';

/** Spend in both units a budget may be set in. */
export interface Spend {
  microUsd: bigint;
  tokens: bigint;
}

export interface BudgetValues {
  monthlyLimitMicroUsd: bigint | null;
  monthlyLimitTokens: bigint | null;
  mode: 'alert' | 'hard';
  perJobLimitMicroUsd: bigint | null;
}

export interface NewReservation {
  id: string;
  tenantId: string;
  period: string;
  jobId: string;
  spend: Spend;
  expiresAt: Date;
}

type Db = Tx | PrismaService;

const spendOf = (row: { micro_usd: bigint | null; tokens: bigint | null } | undefined): Spend => ({
  microUsd: row?.micro_usd ?? 0n,
  tokens: row?.tokens ?? 0n,
});

/** tenant_budgets, budget_reservations and budget_thresholds, and the spend sums they are checked against; the tenant id first in every query. */
@Injectable()
export class BudgetRepository {
  constructor(private readonly prisma: PrismaService) {}

  find(tenantId: string, db: Db = this.prisma): Promise<TenantBudget | null> {
    return db.tenantBudget.findUnique({ where: { tenantId } });
  }

  /** The budget row, locked until `tx` ends (SELECT ... FOR UPDATE): reservations of one tenant take turns on it. */
  async lock(tx: Tx, tenantId: string): Promise<TenantBudget | null> {
    const rows = await tx.$queryRaw<{ tenant_id: string }[]>`SELECT tenant_id FROM tenant_budgets WHERE tenant_id = ${tenantId}::uuid FOR UPDATE`;
    return rows.length ? this.find(tenantId, tx) : null;
  }

  upsert(tenantId: string, values: BudgetValues): Promise<TenantBudget> {
    return this.prisma.tenantBudget.upsert({ where: { tenantId }, create: { tenantId, ...values }, update: values });
  }

  async delete(tenantId: string): Promise<void> {
    await this.prisma.tenantBudget.deleteMany({ where: { tenantId } });
  }

  /** What the tenant's calls cost in a period (usage_daily: at most days x providers x models rows). */
  async periodSpend(tenantId: string, period: string, db: Db = this.prisma): Promise<Spend> {
    const { from, to } = periodDays(period);
    const rows = await db.$queryRaw<{ micro_usd: bigint | null; tokens: bigint | null }[]>`
      SELECT sum(cost_micro_usd)::bigint AS micro_usd, sum(input_tokens + output_tokens)::bigint AS tokens
      FROM usage_daily WHERE tenant_id = ${tenantId}::uuid AND day >= ${from}::date AND day < ${to}::date`;
    return spendOf(rows[0]);
  }

  /** What one job's calls cost so far (key_usage by job). */
  async jobSpend(tenantId: string, jobId: string, db: Db = this.prisma): Promise<Spend> {
    const rows = await db.$queryRaw<{ micro_usd: bigint | null; tokens: bigint | null }[]>`
      SELECT sum(cost_micro_usd)::bigint AS micro_usd, sum(input_tokens + output_tokens)::bigint AS tokens
      FROM key_usage WHERE job_id = ${jobId}::uuid AND tenant_id = ${tenantId}::uuid`;
    return spendOf(rows[0]);
  }

  /**
   * What the period spent plus its unexpired holds, or (`jobId`) what that job spent plus its unexpired
   * holds, read in ONE statement: a page's commit moves its cost from budget_reservations to
   * usage_daily and key_usage at once, and two READ COMMITTED statements could see it in neither.
   */
  async spentAndHeld(tx: Tx, tenantId: string, period: string, now: Date, jobId?: string): Promise<Spend> {
    const { from, to } = periodDays(period);
    const rows = jobId
      ? await tx.$queryRaw<{ micro_usd: bigint | null; tokens: bigint | null }[]>`
          SELECT sum(micro_usd)::bigint AS micro_usd, sum(tokens)::bigint AS tokens FROM (
            SELECT cost_micro_usd AS micro_usd, input_tokens + output_tokens AS tokens FROM key_usage
            WHERE job_id = ${jobId}::uuid AND tenant_id = ${tenantId}::uuid
            UNION ALL
            SELECT micro_usd, tokens FROM budget_reservations
            WHERE tenant_id = ${tenantId}::uuid AND job_id = ${jobId}::uuid AND expires_at > ${now}) AS held`
      : await tx.$queryRaw<{ micro_usd: bigint | null; tokens: bigint | null }[]>`
          SELECT sum(micro_usd)::bigint AS micro_usd, sum(tokens)::bigint AS tokens FROM (
            SELECT cost_micro_usd AS micro_usd, input_tokens + output_tokens AS tokens FROM usage_daily
            WHERE tenant_id = ${tenantId}::uuid AND day >= ${from}::date AND day < ${to}::date
            UNION ALL
            SELECT micro_usd, tokens FROM budget_reservations
            WHERE tenant_id = ${tenantId}::uuid AND period = ${period} AND expires_at > ${now}) AS held`;
    return spendOf(rows[0]);
  }

  async reserve(tx: Tx, reservation: NewReservation): Promise<void> {
    await tx.budgetReservation.create({
      data: {
        id: reservation.id,
        tenantId: reservation.tenantId,
        period: reservation.period,
        jobId: reservation.jobId,
        microUsd: reservation.spend.microUsd,
        tokens: reservation.spend.tokens,
        expiresAt: reservation.expiresAt,
      },
    });
  }

  /** Removes reservations by id (settled or released); expired ones of the tenant go with them, so the table stays small. */
  async release(tenantId: string, ids: readonly string[], now: Date, db: Db = this.prisma): Promise<void> {
    await db.budgetReservation.deleteMany({ where: { tenantId, OR: [{ id: { in: [...ids] } }, { expiresAt: { lte: now } }] } });
  }

  /** Records a threshold crossed in a period once: true only for the insert that made it (ON CONFLICT DO NOTHING, race-safe across workers). */
  async insertThreshold(tx: Tx, tenantId: string, period: string, threshold: number, spent: Spend): Promise<boolean> {
    const inserted = await tx.$executeRaw`
      INSERT INTO budget_thresholds (tenant_id, period, threshold, spent_micro_usd, spent_tokens)
      VALUES (${tenantId}::uuid, ${period}, ${threshold}, ${spent.microUsd}, ${spent.tokens})
      ON CONFLICT (tenant_id, period, threshold) DO NOTHING`;
    return inserted === 1;
  }
}

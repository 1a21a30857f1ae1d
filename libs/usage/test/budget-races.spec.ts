import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TransactionService } from '#libs/database';
import { MediumContext } from '#libs/testing';
import { BudgetExceededError, BudgetService, UsageModule } from '#libs/usage';

/**
 * Two processes' worth of BudgetService (two Nest contexts, two connection pools) on one database:
 * reservations never jointly pass a hard limit, and each threshold is recorded by exactly one of
 * many racing transactions.
 */
describe(`${BudgetService.name} across workers`, () => {
  let first: MediumContext;
  let second: MediumContext;

  beforeAll(async () => {
    first = await MediumContext.create({ imports: [UsageModule] });
    second = await MediumContext.create({ imports: [UsageModule], database: first.database });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  const workers = () => [first, second].map((ctx) => ({ budgets: ctx.get(BudgetService), transactions: ctx.get(TransactionService) }));

  it('holds at most the limit when forty pages of two workers reserve at once', async () => {
    const tenant = await first.newTenant();
    await first.get(BudgetService).put(tenant.id, { monthlyLimitTokens: 1_000, mode: 'hard' });
    const attempts = Array.from({ length: 40 }, (_, i) =>
      workers()
        [i % 2].budgets.reservePage(tenant.id, randomUUID(), { microUsd: 0n, tokens: 70n })
        .then(
          (r) => r.id,
          (error: unknown) => {
            if (!(error instanceof BudgetExceededError)) throw error;
            return null;
          },
        ),
    );
    const held = (await Promise.all(attempts)).filter((id) => id !== null);
    // 14 x 70 = 980 fit in 1,000; a 15th would not
    expect(held).toHaveLength(14);
    await expect(first.prisma.budgetReservation.count({ where: { tenantId: tenant.id } })).resolves.toBe(14);
  });

  it('records each threshold once when twenty transactions of two workers cross it together', async () => {
    const tenant = await first.newTenant();
    await first.get(BudgetService).put(tenant.id, { monthlyLimitUsd: 1, mode: 'alert' });
    const at = new Date();
    await first.prisma.usageDaily.create({
      data: {
        tenantId: tenant.id,
        day: new Date(at.toISOString().slice(0, 10)),
        provider: 'openai',
        model: 'gpt-4o-mini',
        keySource: 'tenant',
        calls: 1n,
        inputTokens: 1n,
        outputTokens: 1n,
        costMicroUsd: 1_000_000n,
      },
    });
    const crossings = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const { budgets, transactions } = workers()[i % 2];
        return transactions.run((tx) => budgets.recordCrossings(tenant.id, at, tx));
      }),
    );
    expect(
      crossings
        .flat()
        .map((c) => c.threshold)
        .sort(),
    ).toEqual([100, 80]);
    await expect(first.prisma.budgetThreshold.count({ where: { tenantId: tenant.id } })).resolves.toBe(2);
  });
});

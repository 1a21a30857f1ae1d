import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MediumContext } from '#libs/testing';
import { UsageModule, UsageService } from '#libs/usage';

/**
 * `totals` is what the range used, whatever the grouping: grouped by job the items stop at the 1,000
 * costliest jobs, but the totals must not stop with them.
 */
describe(`${UsageService.name} totals of a tenant with more jobs than a report lists`, () => {
  let ctx: MediumContext;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [UsageModule] });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('answers the same totals by job as by day when the tenant ran 1,005 jobs', async () => {
    const tenant = await ctx.newTenant();
    const day = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    // 1,005 batches of one call each, one job each, as KeyUsageRepository records them (key_usage + usage_daily)
    await ctx.prisma.$executeRaw`
      INSERT INTO key_usage (id, tenant_id, job_id, job_kind, provider, model, key_source, key_fingerprint, calls, outcome, input_tokens, output_tokens, cost_micro_usd, created_at)
      SELECT gen_random_uuid(), ${tenant.id}::uuid, gen_random_uuid(), 'ai_job', 'openai', 'gpt-4o-mini', 'tenant', 'fp', 1, 'ok', 10, 2, n, now()
      FROM generate_series(1, 1005) AS n`;
    await ctx.prisma.$executeRaw`
      INSERT INTO usage_daily (tenant_id, day, provider, model, key_source, calls, input_tokens, output_tokens, cost_micro_usd)
      VALUES (${tenant.id}::uuid, ${day}::date, 'openai', 'gpt-4o-mini', 'tenant', 1005, 10050, 2010, ${(1005 * 1006) / 2})`;
    const usage = ctx.get(UsageService);
    const byDay = await usage.report(tenant.id, { from: day, to: tomorrow, groupBy: 'day' });
    const byJob = await usage.report(tenant.id, { from: day, to: tomorrow, groupBy: 'job' });
    expect(byDay.totals).toEqual({ calls: 1005, inputTokens: 10050, outputTokens: 2010, costMicroUsd: (1005 * 1006) / 2 });
    expect(byJob.items).toHaveLength(1000);
    expect(byJob.items[0].costMicroUsd).toBe(1005);
    expect(byJob.totals).toEqual(byDay.totals);
  });
});

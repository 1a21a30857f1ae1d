import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { KeyUsageRepository } from '#libs/byok';
import { createTestDatabase, MediumContext, type TestDatabase } from '#libs/testing';
import { UsageModule, UsageService } from '#libs/usage';

/**
 * The usage API's days are UTC days whatever the Postgres server's TimeZone setting (an operator's
 * database is often created with the host's zone). The zone here is picked so that the current UTC
 * time of day falls outside the UTC day's bounds read in that zone: a comparison of created_at with
 * a bare `date` would read the zone's day, not the UTC day.
 */
describe(`${UsageService.name} days under a non-UTC Postgres TimeZone`, () => {
  let database: TestDatabase;
  let ctx: MediumContext;
  const hour = new Date().getUTCHours();
  // UTC-12 reads a day as [12:00Z, 12:00Z next day); UTC+14 as [10:00Z the day before, 10:00Z)
  const zone = hour < 12 ? 'Etc/GMT+12' : 'Pacific/Kiritimati';

  beforeAll(async () => {
    database = await createTestDatabase();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`ALTER DATABASE "${new URL(database.url).pathname.slice(1)}" SET timezone TO '${zone}'`);
    await admin.end();
    ctx = await MediumContext.create({ imports: [UsageModule], database });
  });
  afterAll(async () => {
    await ctx?.close();
    await database?.drop();
  });

  it("runs the product's sessions in UTC over a database whose default zone is not, so timestamps read back exactly", async () => {
    const outside = new pg.Client({ connectionString: database.url });
    await outside.connect();
    const { rows } = await outside.query<{ timezone: string }>(`SELECT current_setting('TimeZone') AS timezone`);
    await outside.end();
    expect(rows[0].timezone).toBe(zone);
    const [{ timezone, now }] = await ctx.prisma.$queryRaw<
      { timezone: string; now: Date }[]
    >`SELECT current_setting('TimeZone') AS timezone, now() AS now`;
    expect(timezone).toBe('UTC');
    // read in the database's zone, the adapter would be off by its offset (12 or 14 hours)
    expect(Math.abs(now.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('groups by job over the same UTC days as by day, provider and model', async () => {
    const tenant = await ctx.newTenant();
    const jobId = randomUUID();
    const at = new Date();
    await ctx.get(KeyUsageRepository).record({
      tenantId: tenant.id,
      jobId,
      jobKind: 'backfill',
      key: { provider: 'openai', key: 'unused', source: 'tenant', fingerprint: 'fp', last4: null },
      calls: 3,
      outcome: 'ok',
      model: 'gpt-4o-mini',
      inputTokens: 100,
      outputTokens: 20,
      costMicroUsd: 42,
      at,
    });
    const today = at.toISOString().slice(0, 10);
    const tomorrow = new Date(at.getTime() + 86_400_000).toISOString().slice(0, 10);
    const usage = ctx.get(UsageService);
    const totals = { calls: 3, inputTokens: 100, outputTokens: 20, costMicroUsd: 42 };
    for (const groupBy of ['day', 'provider', 'model', 'job'] as const) {
      const report = await usage.report(tenant.id, { from: today, to: tomorrow, groupBy });
      expect([groupBy, report.totals]).toEqual([groupBy, totals]);
    }
    expect((await usage.report(tenant.id, { from: today, to: tomorrow, groupBy: 'job' })).items).toEqual([{ key: jobId, ...totals }]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { MediumContext } from '#libs/testing';
import { BudgetExceededError, BudgetService, UsageModule } from '#libs/usage';

/**
 * A page's commit moves its cost from its reservation (deleted) to usage_daily (added) in one
 * transaction. A reservation checked by two statements under READ COMMITTED (what was spent, then
 * what is held) can read usage_daily before that commit and budget_reservations after it: the page's
 * cost is then in neither sum, and a page that does not fit is let through. Here the commit is held
 * open between the two reads (a lock on budget_reservations that only the second read waits for),
 * the interleaving any two workers can fall into by timing.
 */
describe(`${BudgetService.name} reservation against a page committing meanwhile`, () => {
  let ctx: MediumContext;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [UsageModule] });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  /** Waits until a backend other than `client` waits for a lock on budget_reservations. */
  async function untilWaitingOnReservations(client: pg.Client): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
         WHERE c.relname = 'budget_reservations' AND NOT l.granted AND l.pid <> pg_backend_pid()`,
      );
      if (Number(rows[0].n) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('No reservation read ever waited on budget_reservations');
  }

  it('counts a page that commits between its reads of spend and holds', async () => {
    const budgets = ctx.get(BudgetService);
    const tenant = await ctx.newTenant();
    const job = randomUUID();
    await budgets.put(tenant.id, { monthlyLimitTokens: 1_000, mode: 'hard' });
    const page = { microUsd: 0n, tokens: 600n };
    // page A holds 600 of the 1,000 tokens
    const first = await budgets.reservePage(tenant.id, job, page);
    expect(first.id).not.toBeNull();

    // page A commits: its actual cost (exactly its estimate) added, its hold deleted, in one transaction
    const commit = new pg.Client({ connectionString: ctx.database.url });
    const observer = new pg.Client({ connectionString: ctx.database.url });
    await commit.connect();
    await observer.connect();
    try {
      await commit.query('BEGIN');
      await commit.query('LOCK TABLE budget_reservations IN ACCESS EXCLUSIVE MODE');
      const today = new Date().toISOString().slice(0, 10);
      await commit.query(
        `INSERT INTO usage_daily (tenant_id, day, provider, model, key_source, calls, input_tokens, output_tokens, cost_micro_usd)
         VALUES ($1, $2, 'openai', 'gpt-4o-mini', 'tenant', 1, 600, 0, $3)`,
        [tenant.id, today, page.microUsd.toString()],
      );
      await commit.query(
        `INSERT INTO key_usage (id, tenant_id, job_id, job_kind, provider, model, key_source, key_fingerprint, calls, outcome, input_tokens, output_tokens, cost_micro_usd)
         VALUES ($1, $2, $3, 'backfill', 'openai', 'gpt-4o-mini', 'tenant', 'fp', 1, 'ok', 600, 0, $4)`,
        [randomUUID(), tenant.id, job, page.microUsd.toString()],
      );
      await commit.query('DELETE FROM budget_reservations WHERE id = $1', [first.id]);

      // page B of the same job asks for 600 more while A's commit is under way
      const second = budgets.reservePage(tenant.id, job, page).then(
        (r) => r.id,
        (error: unknown) => error,
      );
      await untilWaitingOnReservations(observer);
      await commit.query('COMMIT');

      // 600 spent + 600 asked > 1,000: refused, whichever moment A committed
      expect(await second).toBeInstanceOf(BudgetExceededError);
    } finally {
      await commit.end();
      await observer.end();
    }
  });
});

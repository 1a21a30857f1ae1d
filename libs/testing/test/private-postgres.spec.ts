import { existsSync } from 'node:fs';
import pg from 'pg';
import { PrivatePostgres } from '#libs/testing';

describe('PrivatePostgres', () => {
  let postgres: PrivatePostgres;
  let pool: pg.Pool;
  let url: string;

  beforeAll(async () => {
    postgres = await PrivatePostgres.create();
    url = await postgres.migratedDatabase('outage_probe');
    pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 1_000 });
    // idle clients cut by a stop report here; the pool drops them
    pool.on('error', () => undefined);
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await postgres?.destroy();
  });

  it('serves a migrated database of its own on a port other than the shared one', async () => {
    expect(postgres.port).not.toBe(5432);
    const { rows } = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM "_prisma_migrations" WHERE finished_at IS NOT NULL');
    expect(rows[0].count).toBeGreaterThan(0);
    const tables = await pool.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'backfills'");
    expect(tables.rowCount).toBe(1);
  });

  it('refuses connections once stopped, and the same pool works again after start, data kept', async () => {
    await pool.query('CREATE TABLE kept (v text)');
    await pool.query("INSERT INTO kept VALUES ('yes')");
    await postgres.stop();
    expect(postgres.running).toBe(false);
    await expect(pool.query('SELECT 1')).rejects.toThrow();
    await postgres.start();
    const { rows } = await pool.query<{ v: string }>('SELECT v FROM kept');
    expect(rows).toEqual([{ v: 'yes' }]);
  });

  it('survives an immediate (crash) stop', async () => {
    await postgres.stop('immediate');
    await postgres.start();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('leaves neither process nor folder once destroyed', async () => {
    const scratch = await PrivatePostgres.create();
    const probe = new pg.Client({ connectionString: scratch.url() });
    await probe.connect();
    const { rows } = await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await probe.end();
    expect(rows[0].pid).toBeGreaterThan(0);
    await scratch.destroy();
    expect(scratch.running).toBe(false);
    expect(existsSync(scratch.dir)).toBe(false);
    await expect(new pg.Client({ connectionString: scratch.url(), connectionTimeoutMillis: 1_000 }).connect()).rejects.toThrow();
  }, 60_000);
});

import pg from 'pg';
import { ErrorCode } from '#libs/common';
import { asDatabaseUnavailable, DatabaseUnavailableError, isDatabaseUnavailable, PrismaService } from '#libs/database';
import { PrivatePostgres, testConfig } from '#libs/testing';

/** What Prisma 7 over @prisma/adapter-pg (and pg itself) really throws when Postgres goes away, provoked on a private server. */
describe('isDatabaseUnavailable', () => {
  let postgres: PrivatePostgres;
  let prisma: PrismaService;
  let url: string;

  beforeAll(async () => {
    postgres = await PrivatePostgres.create();
    url = await postgres.migratedDatabase('classify');
    prisma = new PrismaService(testConfig(url));
    await prisma.$connect();
  }, 60_000);

  afterAll(async () => {
    await prisma?.$disconnect();
    await postgres?.destroy();
  });

  async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
    try {
      await work();
    } catch (error) {
      return error;
    }
    throw new Error('expected a failure');
  }

  it('is false for errors of the query itself', async () => {
    expect(isDatabaseUnavailable(await failureOf(() => prisma.$queryRawUnsafe('SELEC 1')))).toBe(false);
    const tenant = { subdomain: 'twice', planType: 'team', aiKeyMode: 'byok' } as const;
    await prisma.tenant.create({ data: tenant });
    expect(isDatabaseUnavailable(await failureOf(() => prisma.tenant.create({ data: tenant })))).toBe(false);
    expect(isDatabaseUnavailable(await failureOf(() => prisma.tenant.findFirstOrThrow({ where: { subdomain: 'none' } })))).toBe(false);
    expect(isDatabaseUnavailable(new Error('anything'))).toBe(false);
    expect(asDatabaseUnavailable('a string')).toBeUndefined();
  });

  it('recognises a query cut by a shutdown and every kind of query while the server is down, then the same client works again', async () => {
    const inFlight = failureOf(() => prisma.$queryRaw`SELECT pg_sleep(30)`);
    // the sleep is running once the server lists it
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    for (;;) {
      const { rowCount } = await watcher.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'");
      if (rowCount) break;
    }
    await watcher.end();
    await postgres.stop('fast');
    const failures = [
      await inFlight,
      await failureOf(() => prisma.$queryRaw`SELECT 1`),
      await failureOf(() => prisma.tenant.findMany()),
      await failureOf(() => prisma.$transaction(async (tx) => tx.tenant.count())),
    ];
    for (const failure of failures) {
      expect(isDatabaseUnavailable(failure)).toBe(true);
      const typed = asDatabaseUnavailable(failure);
      expect(typed).toBeInstanceOf(DatabaseUnavailableError);
      expect(typed?.code).toBe(ErrorCode.DatabaseUnavailable);
    }
    await postgres.start();
    expect(await prisma.tenant.count()).toBe(1);
  }, 60_000);

  it('recognises what pg itself raises when the server crashes under a connection', async () => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    const inFlight = failureOf(() => client.query('SELECT pg_sleep(30)'));
    await postgres.stop('immediate');
    expect(isDatabaseUnavailable(await inFlight)).toBe(true);
    await client.end().catch(() => undefined);
    await postgres.start();
  }, 60_000);
});

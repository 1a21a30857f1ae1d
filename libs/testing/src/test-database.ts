import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { applyMigrations, findMigrationsDir } from '#libs/database';

/** Where tests create their databases: the local server, unless TEST_DATABASE_URL says otherwise. */
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const PREFIX = 'byok_t';
const TEMPLATE_PREFIX = `${PREFIX}_tpl_`;
const STALE_AFTER_MS = 2 * 60 * 60 * 1000;
/** Serialises template creation and cloning across parallel test workers and runs. */
const TEMPLATE_LOCK_ID = '7294061356';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database of its own, cloned from a template named after the migrations'
 * content (so it is built once and never out of date). Names carry their creation time, so
 * databases left by killed runs are dropped by later ones.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await templateName();
  const name = `${PREFIX}_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_ID]);
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (!rowCount) await buildTemplate(admin, template);
      await dropStale(admin);
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_ID]);
    }
  });
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}

export function dropDatabase(name: string): Promise<void> {
  return withAdmin(async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

async function templateName(): Promise<string> {
  const dir = findMigrationsDir();
  const hash = createHash('sha256');
  for (const entry of (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    hash.update(entry).update(await readFile(join(dir, entry, 'migration.sql')));
  }
  return TEMPLATE_PREFIX + hash.digest('hex').slice(0, 16);
}

async function buildTemplate(admin: pg.Client, template: string): Promise<void> {
  const building = `${template}_building`;
  await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${building}"`);
  await applyMigrations(databaseUrl(building));
  await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
  // templates of older migration sets are of no further use
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2', [
    `${TEMPLATE_PREFIX}%`,
    template,
  ]);
  for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
}

async function dropStale(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '^byok_t_[0-9]+_'");
  for (const { datname } of rows) {
    if (Date.now() - Number(datname.split('_')[2]) > STALE_AFTER_MS) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}

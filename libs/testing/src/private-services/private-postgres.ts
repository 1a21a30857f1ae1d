import { execFile } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { applyMigrations } from '#libs/database';
import { ChildService } from './child-service.js';
import { freePort, trackLive, untrackLive, waitFor } from './free-port.js';

const run = promisify(execFile);
const BIN = process.env.TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

/**
 * A Postgres server of one test's own (initdb on a temporary folder, a free port of 127.0.0.1, trust
 * authentication, no fsync), for tests that stop or restart Postgres and must never touch the shared
 * one. It runs as the `postgres` OS user, as a child of the test process; `stop()` is `pg_ctl stop`
 * and `start()` brings it back on the same port and data, so pools built from its URLs reconnect by
 * themselves. Call `destroy()` in afterAll (an exit hook kills it anyway should the test process end first).
 */
export class PrivatePostgres {
  private readonly server = new ChildService();

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  /** initdb, then `start()`: resolves once the server accepts connections. */
  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'private-postgres-'));
    const postgres = new PrivatePostgres(await freePort(), dir);
    trackLive(postgres);
    try {
      if (asRoot()) {
        const { stdout } = await run('id', ['-u', OS_USER]);
        const { stdout: gid } = await run('id', ['-g', OS_USER]);
        chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
      }
      await postgres.pg('initdb', ['-D', postgres.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
      appendFileSync(
        join(postgres.dataDir, 'postgresql.conf'),
        [
          `port = ${postgres.port}`,
          `listen_addresses = '127.0.0.1'`,
          `unix_socket_directories = '${dir}'`,
          'fsync = off',
          'synchronous_commit = off',
          'full_page_writes = off',
          'max_connections = 60',
          'shared_buffers = 32MB',
          '',
        ].join('\n'),
      );
      await postgres.start();
      return postgres;
    } catch (error) {
      await postgres.destroy();
      throw error;
    }
  }

  get running(): boolean {
    return this.server.running;
  }

  /** The URL of `database` on this server (user postgres, no password). */
  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server (again) on the same port and data; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const log = join(this.dir, 'postgres.log');
    this.server.launch(...this.command(join(BIN, 'postgres'), ['-D', this.dataDir]), log);
    await waitFor(
      `Postgres on port ${this.port} did not accept connections`,
      async () => {
        const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
        try {
          await client.connect();
          // this server, not another test's that got the port first
          const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
          return rows[0].data_directory === this.dataDir;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      () => (this.running ? undefined : `it exited (see ${log})`),
    );
  }

  /**
   * `pg_ctl stop`: `fast` (default) disconnects clients and shuts down cleanly, `immediate` is a crash
   * (recovery at the next start). Resolves once the process has exited.
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.running) return;
    await this.pg('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '30']);
    await this.server.waitForExit();
  }

  /**
   * Creates `name` and applies the project's migrations to it.
   * @returns its DATABASE_URL
   */
  async migratedDatabase(name: string): Promise<string> {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Not a plain database name: ${name}`);
    const admin = new pg.Client({ connectionString: this.url() });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    await applyMigrations(this.url(name));
    return this.url(name);
  }

  /** Stops the server at once (immediate) and removes its folder. */
  async destroy(): Promise<void> {
    if (this.running) {
      await this.stop('immediate').catch(async () => {
        this.killNow();
        await this.server.waitForExit();
      });
    }
    untrackLive(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort for process exit: SIGQUIT to the postmaster (the child is runuser, not Postgres). */
  killNow(): void {
    if (!this.running) return;
    try {
      const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      // SIGQUIT is Postgres's immediate shutdown: the postmaster ends its backends too
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      this.server.killNow();
    }
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    await run(...this.command(join(BIN, tool), args));
  }

  /** Postgres refuses to run as root: as root, tools run as the postgres user. */
  private command(binary: string, args: string[]): [string, string[]] {
    return asRoot() ? ['runuser', ['-u', OS_USER, '--', binary, ...args]] : [binary, args];
  }
}

function asRoot(): boolean {
  return userInfo().uid === 0;
}

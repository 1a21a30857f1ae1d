import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ChildService } from './child-service.js';
import { freePort, trackLive, untrackLive, waitFor } from './free-port.js';

export interface PrivateRedisOptions {
  /** Keep an append-only file in the folder, so `restart()` finds the data again. Off: a restart empties Redis. */
  appendOnly?: boolean;
}

/**
 * A redis-server of one test's own, on a free port of 127.0.0.1 with its own folder, for tests that
 * stop, restart or flood Redis and must never touch the shared one. `stop()` and `restart()` keep the
 * port, so clients built from `url` reconnect by themselves. Call `destroy()` in afterAll (an exit hook
 * kills it anyway should the test process end first).
 */
export class PrivateRedis {
  private readonly server = new ChildService();

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: PrivateRedisOptions,
  ) {}

  /** Starts a server and resolves once it answers PING. */
  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'private-redis-')), options);
    trackLive(redis);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server.running;
  }

  /**
   * Stops the server: `kill` (default) is SIGKILL, a crash; `shutdown` is SHUTDOWN NOSAVE, a clean stop
   * that writes nothing. Resolves once the process has exited.
   */
  async stop(how: 'kill' | 'shutdown' = 'kill'): Promise<void> {
    if (!this.running) return;
    if (how === 'shutdown') {
      const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      await client.connect();
      // the server closes the connection instead of answering
      await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      client.disconnect();
      await this.server.waitForExit();
    } else {
      await this.server.signal('SIGKILL');
    }
  }

  /** Stops the server if it runs (SIGKILL) and starts it again on the same port; without `appendOnly` it comes back empty. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Kills the server and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop();
    untrackLive(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Synchronous last resort for process exit (the exit hook calls it): SIGKILL, no waiting.
   * @public
   */
  killNow(): void {
    this.server.killNow();
  }

  private async launch(): Promise<void> {
    // --save '' and no AOF: nothing survives a restart unless appendOnly asks for it
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no'];
    args.push('--pidfile', join(this.dir, 'redis.pid'), '--dir', this.dir, '--appendonly', this.options.appendOnly ? 'yes' : 'no');
    const log = join(this.dir, 'redis.log');
    this.server.launch('redis-server', args, log);
    await waitFor(
      `redis-server on port ${this.port} did not answer`,
      () => answersAs(this.port, this.server.pid),
      () => (this.running ? undefined : `it exited (see ${log})`),
    );
  }
}

/**
 * Whether the Redis on `port` is up and is process `pid` (not another test's server that got the
 * port first). A bare socket rather than an ioredis client: an ioredis client dropped mid-connect
 * keeps a 2 s timer that holds the test process.
 */
function answersAs(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: string) => {
      answer += chunk;
      // an error such as -LOADING: not ready yet
      if (answer.startsWith('-') && answer.includes('\r\n')) return done(false);
      const id = /process_id:(\d+)\r\n/.exec(answer);
      if (id) done(Number(id[1]) === pid);
    });
    socket.once('error', () => done(false));
    socket.once('close', () => resolve(false));
  });
}

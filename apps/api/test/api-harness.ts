import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { createTestDatabase, deleteRedisPrefix, Factories, LogCapture, startInProcessWorker, testEnv, type TestDatabase } from '#libs/testing';
import { createApiApp } from '../src/bootstrap.js';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is, with its own content type. */
  raw?: { data: string | Buffer; contentType: string };
  headers?: Record<string, string>;
}

/** The API booted exactly as in production, on its own database and Redis prefix, over real HTTP. */
export class ApiHarness extends Factories {
  readonly responses: string[] = [];

  private constructor(
    readonly app: INestApplication,
    readonly config: AppConfig,
    readonly database: TestDatabase,
    readonly logs: LogCapture,
    readonly baseUrl: string,
    /** The complete environment the apps were built from: a worker in a child process gets the same. */
    readonly env: Record<string, string | undefined>,
    readonly worker: INestApplicationContext | undefined,
  ) {
    super(app);
  }

  /**
   * The API, and with `worker: true` the job runtime in the same process (built from the libs, as
   * apps/worker builds it; tests that need the real process use WorkerProcess), on one database and
   * Redis prefix.
   */
  static async start(overrides: Record<string, string | undefined> = {}, options: { worker?: boolean } = {}): Promise<ApiHarness> {
    const database = await createTestDatabase();
    const env = testEnv(database.url, overrides);
    const config = AppConfig.fromEnv(env);
    const logs = new LogCapture();
    const app = await createApiApp(config, { destination: logs });
    await app.listen(0, '127.0.0.1');
    let worker: INestApplicationContext | undefined;
    if (options.worker) {
      worker = await startInProcessWorker(config, { destination: logs });
    }
    return new ApiHarness(app, config, database, logs, await app.getUrl(), env, worker);
  }

  get adminToken(): string {
    return this.config.adminApiToken!;
  }

  /** Calls the API; the admin token is used unless `token` says otherwise (null: no header). */
  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? this.adminToken : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined;
    if (options.raw) {
      headers['content-type'] = options.raw.contentType;
      body = options.raw.data;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await response.text();
    this.responses.push(text);
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed as T };
  }

  async newTenantToken(tenantId: string): Promise<string> {
    const { body } = await this.request<{ token: string }>('POST', `/v1/tenants/${tenantId}/tokens`, { body: {} });
    return body.token;
  }

  /** Polls a backfill until `done` holds for its view, or fails after `timeoutMs`. */
  async waitForBackfill(
    jobId: string,
    done: (view: any) => boolean = (v) => ['succeeded', 'failed', 'cancelled'].includes(v.status),
    timeoutMs = 20_000,
  ): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await this.request('GET', `/v1/backfills/${jobId}`);
      if (done(body)) return body;
      if (Date.now() > deadline) throw new Error(`backfill ${jobId} still ${body.status} after ${timeoutMs} ms: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.app.close();
    await deleteRedisPrefix(this.config.redisUrl, this.config.redisPrefix);
    await this.database.drop();
  }
}

import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import type { z } from 'zod';
import { AppConfig } from '#libs/config';
import { createTestDatabase, deleteRedisPrefix, Factories, LogCapture, startInProcessWorker, testEnv, type TestDatabase } from '#libs/testing';
import type { backfillStartedView, BackfillView } from '../src/backfills/backfill.dto.js';
import { createApiApp } from '../src/bootstrap.js';

/** A value as it arrives over HTTP: JSON.stringify wrote its dates as ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer Item)[]
    ? Json<Item>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

/** Every error answer of the API. */
export interface ApiErrorBody {
  error: { code: string; message: string; requestId?: string };
}

/** A list answer: `GET .../settings`, `.../workspaces`, `.../backfills`. */
export interface ListOf<T> {
  items: T[];
}

/** The 202 answer of `POST .../backfills` and `POST /v1/ai/jobs/extract`. */
export type JobStarted = z.output<typeof backfillStartedView>;

export interface HttpResult<T = unknown> {
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

  /**
   * Calls the API; the admin token is used unless `token` says otherwise (null: no header). `T` is the
   * answer the caller expects (e.g. `BackfillView`, or `ApiErrorBody` for a refusal); its body is typed as
   * that value after the trip through JSON (`Json<T>`), and nothing checks it at run time.
   */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult<Json<T>>> {
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
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed as Json<T> };
  }

  async newTenantToken(tenantId: string): Promise<string> {
    const { body } = await this.request<{ token: string }>('POST', `/v1/tenants/${tenantId}/tokens`, { body: {} });
    return body.token;
  }

  /** Polls a backfill until `done` holds for its view, or fails after `timeoutMs`. */
  async waitForBackfill(
    jobId: string,
    done: (view: Json<BackfillView>) => boolean = (v) => ['succeeded', 'failed', 'cancelled'].includes(v.status),
    timeoutMs = 20_000,
  ): Promise<Json<BackfillView>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await this.request<BackfillView>('GET', `/v1/backfills/${jobId}`);
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

import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import type { z } from 'zod';
import { AppConfig } from '#libs/config';
import {
  createTestDatabase,
  deleteRedisPrefix,
  Factories,
  fileLogs,
  type LogCapture,
  startInProcessWorker,
  testEnv,
  type TestDatabase,
} from '#libs/testing';
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

/** One HTTP exchange the test made, as the API answered it (every hop of a redirect is one). */
export interface RecordedExchange {
  method: string;
  url: string;
  status: number;
  /** Every response header as received, set-cookie lines one by one. */
  headers: [name: string, value: string][];
  body: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const MAX_REDIRECTS = 20;

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is, with its own content type. */
  raw?: { data: string | Buffer; contentType: string };
  headers?: Record<string, string>;
}

/** The API booted exactly as in production, on its own database and Redis prefix, over real HTTP. */
export class ApiHarness extends Factories {
  /** The body of every response the test received through `request` or `fetch`, in order. */
  readonly responses: string[] = [];
  /** Every response the test received through `request` or `fetch`: status, headers and body. */
  readonly exchanges: RecordedExchange[] = [];

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
   * Redis prefix. `databaseUrl`: run on that (migrated) database instead of a fresh one; REDIS_URL in
   * `overrides` points it at another Redis (e.g. a PrivateRedis).
   */
  static async start(
    overrides: Record<string, string | undefined> = {},
    options: { worker?: boolean; databaseUrl?: string } = {},
  ): Promise<ApiHarness> {
    // a given database (e.g. on a PrivatePostgres) belongs to the caller: close() leaves it be
    const database: TestDatabase = options.databaseUrl
      ? { name: new URL(options.databaseUrl).pathname.slice(1), url: options.databaseUrl, drop: () => Promise.resolve() }
      : await createTestDatabase();
    const env = testEnv(database.url, overrides);
    const config = AppConfig.fromEnv(env);
    const logs = fileLogs;
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
    const response = await this.fetch(path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed as Json<T> };
  }

  /**
   * `fetch` for requests `request` cannot make (other verbs, streams, custom redirects): a path is
   * resolved against the API's URL. Every response, each redirect hop included, is recorded in
   * `exchanges` and `responses`; the answer is a Response the caller can read as usual.
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    let url = new URL(input, this.baseUrl);
    let request = { ...init };
    for (let hop = 0; ; hop++) {
      const response = await fetch(url, { ...request, redirect: 'manual' });
      const bytes = Buffer.from(await response.arrayBuffer());
      const method = (request.method ?? 'GET').toUpperCase();
      const headers = [...response.headers].filter(([name]) => name !== 'set-cookie');
      headers.push(...response.headers.getSetCookie().map((value): [string, string] => ['set-cookie', value]));
      const body = bytes.toString('utf8');
      this.exchanges.push({ method, url: url.toString(), status: response.status, headers, body });
      this.responses.push(body);
      const location = response.headers.get('location');
      if ((init.redirect ?? 'follow') === 'follow' && REDIRECT_STATUSES.has(response.status) && location !== null) {
        if (hop >= MAX_REDIRECTS) throw new Error(`More than ${MAX_REDIRECTS} redirects from ${String(input)}`);
        url = new URL(location, url);
        // as fetch does: a 303, or a 301/302 after a POST, goes on as a GET without a body
        if (response.status === 303 || (method === 'POST' && response.status !== 307 && response.status !== 308)) {
          request = { ...request, method: 'GET', body: undefined };
        }
        continue;
      }
      if (init.redirect === 'error' && REDIRECT_STATUSES.has(response.status)) throw new TypeError(`fetch failed: redirect from ${url.toString()}`);
      const copy = new Response(NULL_BODY_STATUSES.has(response.status) ? null : bytes, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      Object.defineProperty(copy, 'url', { value: url.toString() });
      Object.defineProperty(copy, 'redirected', { value: hop > 0 });
      return copy;
    }
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

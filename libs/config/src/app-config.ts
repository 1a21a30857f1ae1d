import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { PUBLIC_PROVIDERS, type PublicProvider } from '#libs/common';
import { loadPriceTable, type PriceTable } from './price-table.js';

/** Raised for any invalid setting; its message is the one line printed before the process exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const MASTER_KEY_BYTES = 32;
const MIN_FINGERPRINT_KEY_BYTES = 32;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['json', 'pretty'] as const;

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
const optionalUrl = optionalString.pipe(z.url().optional());

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return ['redis:', 'rediss:'].includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

const required = (hint: string) =>
  z
    .string({ error: `is required${hint}` })
    .trim()
    .min(1, `is required${hint}`);

const envSchema = z.object({
  DATABASE_URL: required(' (postgresql://user@host:5432/db)'),
  // "localhost:6379" would parse as a URL (the scheme "localhost:") and ioredis would retry it forever
  REDIS_URL: z
    .string()
    .trim()
    .default('redis://127.0.0.1:6379')
    .refine(isRedisUrl, 'must be a redis:// or rediss:// URL with a host, such as redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9:_-]+$/, 'may hold letters, digits, ":", "_" and "-" only')
    .default('byok'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ADMIN_API_TOKEN: optionalString.pipe(z.string().min(24, 'must be at least 24 characters').optional()),
  METRICS_TOKEN: optionalString.pipe(
    z
      .string()
      .min(24, 'must be at least 24 characters')
      .regex(/^[\x21-\x7e]+$/, 'may hold printable ASCII only (it is sent as a bearer token)')
      .optional(),
  ),
  METRICS_PORT: optionalString.pipe(z.coerce.number<string | undefined>().int().min(0).max(65535).optional()),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  BYOK_MASTER_KEYS: required(' (e.g. v1:<32 bytes of base64>)'),
  BYOK_ACTIVE_KEY_VERSION: required(' (e.g. v1)'),
  BYOK_FINGERPRINT_KEY: required(' (32 or more bytes of base64)'),
  PLATFORM_OPENAI_API_KEY: optionalString,
  PLATFORM_GEMINI_API_KEY: optionalString,
  PLATFORM_DEEPSEEK_API_KEY: optionalString,
  PLATFORM_ANTHROPIC_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  GEMINI_BASE_URL: optionalUrl,
  DEEPSEEK_BASE_URL: optionalUrl,
  ANTHROPIC_BASE_URL: optionalUrl,
  CORS_ORIGINS: z.string().trim().default(''),
  TRUST_PROXY: z.string().trim().default('false'),
  RATE_LIMIT_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(60),
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000_000).default(20),
  RATE_LIMIT_AUTH_FAILURES_PER_TOKEN_PREFIX: z.coerce.number().int().min(1).max(10_000_000).default(10),
  RATE_LIMIT_TENANT_WRITES: z.coerce.number().int().min(1).max(10_000_000).default(600),
  TOKEN_CACHE_TTL_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(LOG_FORMATS).optional(),
  SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
  SYNC_PAGE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(256 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  SYNC_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  AI_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  JOB_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  JOB_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  JOB_RECONCILE_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  JOB_OUTAGE_PATIENCE_MS: z.coerce.number().int().min(0).max(86_400_000).default(600_000),
  WORKSPACE_DELETE_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(5_000),
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  PROVIDER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  PROVIDER_RETRY_BASE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  PROVIDER_RATE_LIMIT_PATIENCE_MS: z.coerce.number().int().min(0).max(3_600_000).default(120_000),
  PROVIDER_DEFAULT_RPM: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
  PROVIDER_DEFAULT_TPM: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
  PROVIDER_RATE_LIMIT_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  TENANT_MAX_ACTIVE_BACKFILLS: z.coerce.number().int().min(1).max(10_000).default(4),
  TENANT_MAX_CONCURRENCY: z.coerce.number().int().min(0).max(100_000).default(0),
  SYNC_MAX_FAILED_RATIO: z.coerce.number().min(0).max(1).default(0.2),
  SYNC_MAX_CONSECUTIVE_FAILURES: z.coerce.number().int().min(1).max(1_000_000).default(25),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  GRAPH_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  GRAPH_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(5_000),
  GRAPH_PAGE_CACHE_MB: z.coerce.number().min(0).max(4_096).default(32),
  GRAPH_MAX_CONCURRENT_REQUESTS: z.coerce.number().int().min(1).max(10_000).default(8),
  UPLOAD_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(GIB)
    .default(50 * MIB),
  UPLOAD_DECODED_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(GIB)
    .default(50 * MIB),
  INGEST_MAX_RECORDS: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  INGEST_MAX_RECORD_BYTES: z.coerce.number().int().min(1_024).max(GIB).default(MIB),
  INGEST_MAX_DEPTH: z.coerce.number().int().min(2).max(1_000).default(32),
  MBOX_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(GIB)
    .default(25 * MIB),
  MBOX_MAX_MESSAGE_LINES: z.coerce.number().int().min(100).max(100_000_000).default(500_000),
  UPLOAD_MAX_CONCURRENT: z.coerce.number().int().min(1).max(1_000).default(2),
  UPLOAD_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  PRICE_TABLE_FILE: optionalString,
  BUDGET_RESERVATION_TTL_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(900_000),
  ESTIMATE_CHARS_PER_TOKEN: z.coerce.number().min(0.5).max(20).default(4),
  ESTIMATE_OUTPUT_RATIO: z.coerce.number().min(0).max(10).default(0.25),
  EGRESS_ALLOW_HTTP: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  EGRESS_ALLOWED_CIDRS: z
    .string()
    .trim()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((entries) => entries.every((entry) => ipaddr.isValidCIDR(entry) || ipaddr.isValid(entry)), {
      error: 'must be a comma-separated list of IP addresses or CIDR ranges (e.g. 127.0.0.1/32,::1/128)',
    }),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(8),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  WEBHOOK_MAX_ENDPOINTS: z.coerce.number().int().min(1).max(1_000).default(20),
  IMAP_ALLOW_PLAINTEXT: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  IMAP_TLS_CA_FILE: optionalString,
  IMAP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  IMAP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  IMAP_RETRY_BASE_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
});

export type LogLevel = (typeof LOG_LEVELS)[number];
/** `json`: one JSON object a line; `pretty`: pino-pretty's human-readable lines. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** How backfills page and fan out. */
export interface BackfillTuning {
  /** Records per page: one transaction (graph, counters, checkpoint) per page. */
  pageSize: number;
  /** Text per page (bytes, UTF-8), however few records that makes; a record larger than this is a page of its own. */
  pageMaxBytes: number;
  /** Provider calls in flight per backfill. */
  concurrency: number;
  /** Backfills one worker process runs at once. */
  workerConcurrency: number;
  /** Share of failed records (0-1) past which a backfill stops EXTRACTION_FAILING, once 20 records are done. */
  maxFailedRatio: number;
  /** Records failing in a row that stop a backfill EXTRACTION_FAILING. */
  maxConsecutiveFailures: number;
}

/** How queue jobs run in a worker process. */
export interface JobTuning {
  /** AI jobs one worker process runs at once. */
  aiWorkerConcurrency: number;
  /** How long (ms) a crashed worker holds a job before another takes it over. */
  lockDurationMs: number;
  /** How often (ms) a worker looks for jobs whose row is not terminal while the queue has lost or ended them. */
  reconcileIntervalMs: number;
  /** How long (ms) a job must be missing from the queue, unchanged, before it counts as lost (covers a start between row and enqueue). */
  reconcileGraceMs: number;
  /** How long (ms) a job waits out a database outage (re-queued, no attempt used) before the outage counts as a failed attempt. */
  outagePatienceMs: number;
  /** Rows a workspace deletion removes per transaction (records: their mentions and failures come with them). */
  deleteBatchSize: number;
}

/** What the provider layer may know: where each provider is, and how long and how often to try. */
export interface ProviderTuning {
  /** `<PROVIDER>_BASE_URL` overrides; a provider without one uses its public endpoint. */
  /** The public providers' endpoints only: a tenant endpoint (azure-openai, custom-openai) comes from the tenant's settings. */
  baseUrls: Readonly<Partial<Record<PublicProvider, string>>>;
  /** One provider call's deadline (ms). */
  timeoutMs: number;
  /** Tries per provider call on 429 and 5xx before the job fails. */
  maxAttempts: number;
  /** Backoff base (ms): a retry waits a random time up to base * 2^(n-1). */
  retryBaseMs: number;
  /** How long (ms) a provider may keep answering 429 (each retry-after waited out) before the job fails RATE_LIMITED. */
  rateLimitPatienceMs: number;
}

/**
 * Per-key provider rate limits: what a key may be driven at when its tenant set no `<PROVIDER>_RPM` /
 * `<PROVIDER>_TPM` setting (0: no limit), and how long one call waits for capacity.
 */
export interface ProviderRateDefaults {
  /** Requests per minute per (provider, key fingerprint) (PROVIDER_DEFAULT_RPM; 0: unlimited). */
  defaultRpm: number;
  /** Tokens per minute per (provider, key fingerprint) (PROVIDER_DEFAULT_TPM; 0: unlimited). */
  defaultTpm: number;
  /** How long (ms) one call waits for its key's capacity before it fails RATE_LIMITED (retryable) (PROVIDER_RATE_LIMIT_WAIT_MS). */
  maxWaitMs: number;
}

/** How the cluster's backfill slots and provider calls are shared between tenants, held in Redis across workers. */
export interface TenantShares {
  /** Backfills one tenant may have running at once across all workers (TENANT_MAX_ACTIVE_BACKFILLS). */
  maxActiveBackfills: number;
  /** Provider calls one tenant may have in flight at once across all workers and jobs (TENANT_MAX_CONCURRENCY; 0: no cap). */
  maxConcurrency: number;
}

/**
 * Rate limits kept in Redis, so every API process counts against the same allowance. Each counts
 * within a fixed window of `windowS` seconds (rate-limiter-flexible's fixed window).
 */
export interface RateLimits {
  /** Length (s) of every limit's window. */
  windowS: number;
  /** Failed authentications one client address may make per window before it is refused 429. */
  authFailuresPerAddress: number;
  /** Failed authentications with one token prefix (its first characters) per window, across all addresses. */
  authFailuresPerTokenPrefix: number;
  /** Writes (POST, PUT, PATCH, DELETE) one tenant's tokens may make per window. */
  tenantWrites: number;
}

/** Where Prometheus reads a process's metrics (libs/metrics). */
export interface MetricsSettings {
  /**
   * A bearer token that may read metrics and nothing else (METRICS_TOKEN): the API's `/metrics`
   * also takes the platform admin token; a worker's metrics port requires this one when it is set.
   */
  token: string | undefined;
  /** The worker's metrics port (METRICS_PORT; 0: any free port); none when unset. The API serves `/metrics` on its own port. */
  workerPort: number | undefined;
  /** The address the worker's metrics port listens on (METRICS_HOST): loopback unless an operator opens it. */
  workerHost: string;
}

/** How graph reads use Postgres and memory. */
export interface GraphTuning {
  /** Connections of the graph reads' own pool, so other reads never queue behind them. */
  poolSize: number;
  /** A graph read running longer (ms) is cancelled by Postgres and answers GRAPH_READ_TIMEOUT. */
  statementTimeoutMs: number;
  /** Bytes of graph pages cached in process (0 turns the cache off). */
  pageCacheBytes: number;
  /** Graph requests an API process works on at once; later ones wait their turn (FIFO) before any of their work runs. */
  maxConcurrentRequests: number;
}

/**
 * The caps of `POST .../records` and `POST .../imports/mbox`, enforced while the body is read (a cap
 * passed stops the read at once); all sizes in bytes.
 */
export interface IngestLimits {
  /** Body bytes as sent (before any Content-Encoding is undone). */
  maxUploadBytes: number;
  /** Body bytes once gzip or deflate is undone (a 51 KB gzip bomb inflates to 50 MB). */
  maxDecodedBytes: number;
  /** Records (JSON, NDJSON) or messages (mbox) per request, invalid ones included. */
  maxRecords: number;
  /** One JSON record or NDJSON line, as sent. */
  maxRecordBytes: number;
  /** Nesting of arrays and objects in a JSON body, its outer array or envelope included. */
  maxDepth: number;
  /** One mbox message, headers and attachments included. */
  maxMessageBytes: number;
  /**
   * Lines of one mbox message: the mail parser's cost is per line, so a message of a few MB of bare
   * newlines (a 24 KB gzip upload) held the API for seconds; a 25 MB base64 attachment is about 340,000.
   */
  maxMessageLines: number;
  /**
   * Uploads one API process reads and parses at once; the others wait (after authentication, their
   * bodies unread): the caps bound one upload's memory, this bounds how many are held together.
   */
  maxConcurrentUploads: number;
  /** An upload whose client sends nothing for this long (ms) is answered 408 UPLOAD_STALLED and its memory freed. */
  idleTimeoutMs: number;
}

/** How usage is priced, estimated and held against budgets. */
export interface UsageSettings {
  /** The price table: defaults, with PRICE_TABLE_FILE's models over them. */
  prices: PriceTable;
  /** How long (ms) a backfill page's budget reservation holds when its run dies before settling it (BUDGET_RESERVATION_TTL_MS). */
  reservationTtlMs: number;
  /** Characters per token an estimate assumes (ESTIMATE_CHARS_PER_TOKEN; 4 is OpenAI's rule of thumb for English). */
  charsPerToken: number;
  /** Output tokens per input token an estimate assumes for a workspace with no history (ESTIMATE_OUTPUT_RATIO). */
  outputRatio: number;
}

/** Outbound HTTP to URLs tenants supplied (libs/egress). */
export interface EgressTuning {
  /** Whether http:// URLs are accepted (EGRESS_ALLOW_HTTP; https only otherwise). */
  allowHttp: boolean;
  /** Addresses or CIDR ranges tenant URLs may reach though not public unicast (EGRESS_ALLOWED_CIDRS). */
  allowedCidrs: readonly string[];
}

/** How mailboxes are reached (libs/mailbox). */
export interface ImapTuning {
  /** Whether a mailbox may be reached without TLS (IMAP_ALLOW_PLAINTEXT; for development and tests). */
  allowPlaintext: boolean;
  /** PEM certificates trusted besides the system's (IMAP_TLS_CA_FILE's contents), e.g. a private CA. */
  tlsCa?: string;
  /** Connect, greeting and each command's deadline (ms) (IMAP_TIMEOUT_MS). */
  timeoutMs: number;
  /** Tries of a connection or a page's fetch before IMAP_UNAVAILABLE (IMAP_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Backoff base (ms): try n+1 waits base * 2^(n-1) (IMAP_RETRY_BASE_MS). */
  retryBaseMs: number;
}

/** How webhook deliveries are sent and retried (libs/webhooks). */
export interface WebhookTuning {
  /** One delivery attempt's deadline (ms), connection to answer head (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Attempts per delivery before it is dead-lettered `failed` (WEBHOOK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Backoff base (ms): attempt n+1 waits base * 2^(n-1), with up to 20% jitter either way (WEBHOOK_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** How often (ms) a worker dispatches undispatched events (WEBHOOK_DISPATCH_INTERVAL_MS). */
  dispatchIntervalMs: number;
  /** Endpoints one tenant may have (WEBHOOK_MAX_ENDPOINTS): each event is sent to every one, so this bounds the fan-out. */
  maxEndpoints: number;
}

/**
 * The whole configuration, validated once at start-up. Nothing else in the code base reads
 * `process.env`: a provider key in the environment is never a tenant's key.
 */
export class AppConfig {
  readonly databaseUrl: string;
  /** Connections of the process's main Postgres pool (Prisma). */
  readonly databasePoolSize: number;
  readonly redisUrl: string;
  /** Prefix of every Redis key and channel the product writes, so deployments and tests never collide. */
  readonly redisPrefix: string;
  readonly port: number;
  readonly adminApiToken: string | undefined;
  readonly masterKeys: ReadonlyMap<string, Buffer>;
  readonly activeKeyVersion: string;
  readonly fingerprintKey: Buffer;
  /** The public providers' platform keys only: a tenant endpoint is reached with the tenant's own key alone. */
  readonly platformKeys: Readonly<Partial<Record<PublicProvider, string>>>;
  readonly corsOrigins: readonly string[];
  /**
   * Express's `trust proxy` (TRUST_PROXY): false (the default) takes a client's address from its
   * socket; true, a hop count or a list of proxy addresses/subnets lets X-Forwarded-For name it.
   */
  readonly trustProxy: boolean | number | string;
  readonly rateLimits: Readonly<RateLimits>;
  /**
   * How long (ms) an API process trusts a tenant token it looked up (TOKEN_CACHE_TTL_MS): a revoke
   * reaches every process at once over Redis pub/sub; this bounds it while Redis is unreachable.
   */
  readonly tokenCacheTtlMs: number;
  readonly logLevel: LogLevel;
  /** LOG_FORMAT when set; unset, the logger picks pretty for a terminal and JSON otherwise. */
  readonly logFormat: LogFormat | undefined;
  readonly backfill: Readonly<BackfillTuning>;
  readonly jobs: Readonly<JobTuning>;
  readonly providers: Readonly<ProviderTuning>;
  readonly providerRates: Readonly<ProviderRateDefaults>;
  readonly tenantShares: Readonly<TenantShares>;
  readonly graph: Readonly<GraphTuning>;
  readonly metrics: Readonly<MetricsSettings>;
  readonly ingest: Readonly<IngestLimits>;
  readonly usage: Readonly<UsageSettings>;
  readonly egress: Readonly<EgressTuning>;
  readonly webhooks: Readonly<WebhookTuning>;
  readonly imap: Readonly<ImapTuning>;

  private constructor(values: AppConfig) {
    Object.assign(this, values);
    Object.freeze(this);
  }

  static fromEnv(env: Readonly<Record<string, string | undefined>>): AppConfig {
    const parsed = envSchema.safeParse(env);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
    }
    const e = parsed.data;
    const masterKeys = parseMasterKeys(e.BYOK_MASTER_KEYS);
    if (!masterKeys.has(e.BYOK_ACTIVE_KEY_VERSION)) {
      throw new ConfigError(
        `Invalid configuration: BYOK_ACTIVE_KEY_VERSION "${e.BYOK_ACTIVE_KEY_VERSION}" is not one of the versions in BYOK_MASTER_KEYS (${[...masterKeys.keys()].join(', ')})`,
      );
    }
    const fingerprintKey = decodeBase64(e.BYOK_FINGERPRINT_KEY);
    if (!fingerprintKey || fingerprintKey.length < MIN_FINGERPRINT_KEY_BYTES) {
      throw new ConfigError(`Invalid configuration: BYOK_FINGERPRINT_KEY must be at least ${MIN_FINGERPRINT_KEY_BYTES} bytes of base64`);
    }
    if (e.METRICS_PORT !== undefined && !isLoopback(e.METRICS_HOST) && !e.METRICS_TOKEN) {
      throw new ConfigError(
        `Invalid configuration: METRICS_HOST ${e.METRICS_HOST} opens the worker's metrics port beyond this host: set METRICS_TOKEN too`,
      );
    }
    let prices: PriceTable;
    try {
      prices = loadPriceTable(e.PRICE_TABLE_FILE);
    } catch (error) {
      throw new ConfigError(`Invalid configuration: PRICE_TABLE_FILE ${(error as Error).message}`);
    }
    const byProvider = (suffix: (p: PublicProvider) => string | undefined) =>
      Object.fromEntries(PUBLIC_PROVIDERS.flatMap((p) => (suffix(p) ? [[p, suffix(p)]] : [])));

    return new AppConfig({
      databaseUrl: e.DATABASE_URL,
      databasePoolSize: e.DATABASE_POOL_SIZE,
      redisUrl: e.REDIS_URL,
      redisPrefix: e.REDIS_PREFIX,
      port: e.PORT,
      adminApiToken: e.ADMIN_API_TOKEN,
      masterKeys,
      activeKeyVersion: e.BYOK_ACTIVE_KEY_VERSION,
      fingerprintKey,
      platformKeys: byProvider((p) => e[`PLATFORM_${p.toUpperCase()}_API_KEY` as keyof typeof e] as string | undefined),
      corsOrigins: e.CORS_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      rateLimits: {
        windowS: e.RATE_LIMIT_WINDOW_S,
        authFailuresPerAddress: e.RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS,
        authFailuresPerTokenPrefix: e.RATE_LIMIT_AUTH_FAILURES_PER_TOKEN_PREFIX,
        tenantWrites: e.RATE_LIMIT_TENANT_WRITES,
      },
      tokenCacheTtlMs: e.TOKEN_CACHE_TTL_MS,
      logLevel: e.LOG_LEVEL,
      logFormat: e.LOG_FORMAT,
      backfill: {
        pageSize: e.SYNC_PAGE_SIZE,
        pageMaxBytes: e.SYNC_PAGE_MAX_BYTES,
        concurrency: e.SYNC_CONCURRENCY,
        workerConcurrency: e.SYNC_WORKER_CONCURRENCY,
        maxFailedRatio: e.SYNC_MAX_FAILED_RATIO,
        maxConsecutiveFailures: e.SYNC_MAX_CONSECUTIVE_FAILURES,
      },
      jobs: {
        aiWorkerConcurrency: e.AI_WORKER_CONCURRENCY,
        lockDurationMs: e.JOB_LOCK_DURATION_MS,
        reconcileIntervalMs: e.JOB_RECONCILE_INTERVAL_MS,
        reconcileGraceMs: e.JOB_RECONCILE_GRACE_MS,
        outagePatienceMs: e.JOB_OUTAGE_PATIENCE_MS,
        deleteBatchSize: e.WORKSPACE_DELETE_BATCH_SIZE,
      },
      providers: {
        baseUrls: Object.freeze(byProvider((p) => e[`${p.toUpperCase()}_BASE_URL` as keyof typeof e] as string | undefined)),
        timeoutMs: e.PROVIDER_TIMEOUT_MS,
        maxAttempts: e.PROVIDER_MAX_ATTEMPTS,
        retryBaseMs: e.PROVIDER_RETRY_BASE_MS,
        rateLimitPatienceMs: e.PROVIDER_RATE_LIMIT_PATIENCE_MS,
      },
      providerRates: { defaultRpm: e.PROVIDER_DEFAULT_RPM, defaultTpm: e.PROVIDER_DEFAULT_TPM, maxWaitMs: e.PROVIDER_RATE_LIMIT_WAIT_MS },
      tenantShares: { maxActiveBackfills: e.TENANT_MAX_ACTIVE_BACKFILLS, maxConcurrency: e.TENANT_MAX_CONCURRENCY },
      graph: {
        poolSize: e.GRAPH_DATABASE_POOL_SIZE,
        statementTimeoutMs: e.GRAPH_STATEMENT_TIMEOUT_MS,
        pageCacheBytes: Math.floor(e.GRAPH_PAGE_CACHE_MB * 1024 * 1024),
        maxConcurrentRequests: e.GRAPH_MAX_CONCURRENT_REQUESTS,
      },
      metrics: { token: e.METRICS_TOKEN, workerPort: e.METRICS_PORT, workerHost: e.METRICS_HOST },
      ingest: {
        maxUploadBytes: e.UPLOAD_LIMIT_BYTES,
        maxDecodedBytes: e.UPLOAD_DECODED_LIMIT_BYTES,
        maxRecords: e.INGEST_MAX_RECORDS,
        maxRecordBytes: e.INGEST_MAX_RECORD_BYTES,
        maxDepth: e.INGEST_MAX_DEPTH,
        maxMessageBytes: e.MBOX_MAX_MESSAGE_BYTES,
        maxMessageLines: e.MBOX_MAX_MESSAGE_LINES,
        maxConcurrentUploads: e.UPLOAD_MAX_CONCURRENT,
        idleTimeoutMs: e.UPLOAD_IDLE_TIMEOUT_MS,
      },
      usage: {
        prices,
        reservationTtlMs: e.BUDGET_RESERVATION_TTL_MS,
        charsPerToken: e.ESTIMATE_CHARS_PER_TOKEN,
        outputRatio: e.ESTIMATE_OUTPUT_RATIO,
      },
      egress: { allowHttp: e.EGRESS_ALLOW_HTTP === 'true', allowedCidrs: Object.freeze(e.EGRESS_ALLOWED_CIDRS) },
      webhooks: {
        timeoutMs: e.WEBHOOK_TIMEOUT_MS,
        maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
        retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
        dispatchIntervalMs: e.WEBHOOK_DISPATCH_INTERVAL_MS,
        maxEndpoints: e.WEBHOOK_MAX_ENDPOINTS,
      },
      imap: {
        allowPlaintext: e.IMAP_ALLOW_PLAINTEXT === 'true',
        ...(e.IMAP_TLS_CA_FILE ? { tlsCa: readCaFile(e.IMAP_TLS_CA_FILE) } : {}),
        timeoutMs: e.IMAP_TIMEOUT_MS,
        maxAttempts: e.IMAP_MAX_ATTEMPTS,
        retryBaseMs: e.IMAP_RETRY_BASE_MS,
      },
    });
  }
}

/** IMAP_TLS_CA_FILE's PEM text; a ConfigError naming the setting when it cannot be read or holds no certificate. */
function readCaFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Invalid configuration: IMAP_TLS_CA_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('Invalid configuration: IMAP_TLS_CA_FILE holds no PEM certificate');
  return text;
}

function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

function parseMasterKeys(raw: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(':');
    const version = entry.slice(0, separator);
    if (separator <= 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(version)) {
      throw new ConfigError('Invalid configuration: BYOK_MASTER_KEYS entries must look like v1:<base64>');
    }
    const key = decodeBase64(entry.slice(separator + 1));
    if (!key || key.length !== MASTER_KEY_BYTES) {
      throw new ConfigError(`Invalid configuration: BYOK_MASTER_KEYS entry "${version}" must be ${MASTER_KEY_BYTES} bytes of base64`);
    }
    if (keys.has(version)) {
      throw new ConfigError(`Invalid configuration: BYOK_MASTER_KEYS lists version "${version}" twice`);
    }
    keys.set(version, key);
  }
  if (keys.size === 0) throw new ConfigError('Invalid configuration: BYOK_MASTER_KEYS is empty');
  return keys;
}

/** Whether a listen address is reachable from this host only. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** TRUST_PROXY as express's `trust proxy` takes it: true/false, a hop count, or a comma-separated list of addresses and subnets. */
function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** For process entry points: a bad configuration prints one clear line and stops the process. */
export function loadConfigOrExit(env: Readonly<Record<string, string | undefined>>): AppConfig {
  try {
    return AppConfig.fromEnv(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

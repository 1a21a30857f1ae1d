import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** HTTP methods kept as a label; anything else is counted as `other`, so a client cannot invent label values. */
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** One provider call (one attempt: a retry is a call of its own), as the provider layer reports it. */
export interface ProviderCallSample {
  /** A provider id (openai, gemini, deepseek, anthropic). */
  provider: string;
  /** What was asked: `complete` (an extraction) or `validate_key` (a live key check). */
  operation: string;
  /** How it ended: ok, rate_limited, auth_failed, unavailable, unusable_answer, request_refused, error. */
  outcome: string;
  /** Wall time of the call, in seconds. */
  seconds: number;
}

/** Jobs of one queue in one state, as BullMQ counts them. */
export interface QueueDepth {
  queue: string;
  /** waiting (prioritized included), active, delayed or failed. */
  state: string;
  jobs: number;
}

/**
 * The product's Prometheus metrics, one registry per process (per Nest app: a test running the API
 * and a worker in one process gets two). Every label is drawn from a small fixed set (provider,
 * queue, outcome, route template, method, status class): never a tenant, workspace, job id, key or
 * raw URL, which would make the series unbounded and could carry what the canary scan forbids.
 * Recording is a counter increment or a histogram observation: cheap enough for every request and
 * every provider call.
 */
export class Metrics {
  readonly registry = new Registry();
  private queueDepthReader: (() => Promise<QueueDepth[]>) | undefined;

  private readonly httpDuration = new Histogram({
    name: 'byok_http_request_duration_seconds',
    help: 'HTTP requests by method, route template (never the raw path) and status class, and how long they took (s).',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly providerDuration = new Histogram({
    name: 'byok_provider_call_duration_seconds',
    help: 'Provider calls (each attempt) by provider, operation and outcome, and how long they took (s).',
    labelNames: ['provider', 'operation', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  private readonly providerCalls = new Counter({
    name: 'byok_provider_calls_total',
    help: 'Provider calls (each attempt) by provider, operation and outcome.',
    labelNames: ['provider', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly providerRateLimited = new Counter({
    name: 'byok_provider_rate_limited_total',
    help: 'Provider calls answered 429 (rate limited), by provider.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  private readonly keyValidations = new Counter({
    name: 'byok_key_validations_total',
    help: 'Key validations by provider and verdict (valid, invalid; no_verdict when the provider could not be asked), cached verdicts included.',
    labelNames: ['provider', 'verdict'] as const,
    registers: [this.registry],
  });

  private readonly jobDuration = new Histogram({
    name: 'byok_job_duration_seconds',
    help: 'Job runs by queue and how each ended (succeeded, failed, cancelled, skipped, released, superseded, error), and how long they ran (s).',
    labelNames: ['queue', 'status'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400],
    registers: [this.registry],
  });

  private readonly recordsProcessed = new Counter({
    name: 'byok_backfill_records_processed_total',
    help: 'Records backfills committed (extracted or stored as failed), by provider: its rate is records/s.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  private readonly recordsFailed = new Counter({
    name: 'byok_backfill_records_failed_total',
    help: 'Records backfills could not extract and stored as failed, by provider.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  private readonly backfillStartWait = new Histogram({
    name: 'byok_backfill_start_wait_seconds',
    help: 'How long backfills waited from being started (queued) to their first run (s): worker capacity, tenant caps and fair share.',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300, 900],
    registers: [this.registry],
  });

  private readonly backfillSlotRefusals = new Counter({
    name: 'byok_backfill_slot_refusals_total',
    help: 'Backfill runs sent back to the queue without a slot, by reason: tenant-cap (TENANT_MAX_ACTIVE_BACKFILLS) or fair-share (another tenant waits).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly backfillYields = new Counter({
    name: 'byok_backfill_slot_yields_total',
    help: 'Running backfills that gave their slot to a waiting tenant at a checkpoint (they resume from it).',
    registers: [this.registry],
  });

  private readonly providerCallWait = new Histogram({
    name: 'byok_provider_call_wait_seconds',
    help: "Provider calls that waited before being sent (s), by provider and reason: key-rate (the key's requests or tokens per minute) or tenant-concurrency (TENANT_MAX_CONCURRENCY).",
    labelNames: ['provider', 'reason'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60],
    registers: [this.registry],
  });

  private readonly providerWaitExceeded = new Counter({
    name: 'byok_provider_capacity_wait_exceeded_total',
    help: 'Provider calls that failed because no capacity came within PROVIDER_RATE_LIMIT_WAIT_MS, by provider and reason.',
    labelNames: ['provider', 'reason'] as const,
    registers: [this.registry],
  });

  private readonly keyRateChanges = new Counter({
    name: 'byok_provider_key_rate_changes_total',
    help: "Adaptive (AIMD) changes of a key's sending rate, by provider and direction: lowered after a 429, raised after successes.",
    labelNames: ['provider', 'direction'] as const,
    registers: [this.registry],
  });

  private readonly keyRateFraction = new Gauge({
    name: 'byok_provider_key_rate_fraction',
    help: 'The share (0-1] of its configured rate the key this process adapted last was sent at, by provider: below 1 while a key recovers from 429s.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  private readonly queueJobs = new Gauge({
    name: 'byok_queue_jobs',
    help: 'Jobs in each queue by state (waiting, active, delayed, failed), read from Redis when scraped; the same in every process.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: () => this.readQueueDepth(),
  });

  private readonly queueDepthFailures = new Counter({
    name: 'byok_queue_depth_read_failures_total',
    help: 'Scrapes whose queue depth could not be read from Redis (byok_queue_jobs was left out of them).',
    registers: [this.registry],
  });

  constructor() {
    // process CPU, memory, event loop delay, GC: what a slow process shows first
    collectDefaultMetrics({ register: this.registry });
  }

  /** One HTTP request: `route` is the route template (e.g. /v1/backfills/:jobId), or a fixed word for requests no route matched. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const statusClass = status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
    this.httpDuration.observe({ method: HTTP_METHODS.has(method) ? method : 'other', route, status_class: statusClass }, seconds);
  }

  /** One provider call (an attempt). */
  providerCall(sample: ProviderCallSample): void {
    const labels = { provider: sample.provider, operation: sample.operation, outcome: sample.outcome };
    this.providerDuration.observe(labels, sample.seconds);
    this.providerCalls.inc(labels);
    if (sample.outcome === 'rate_limited') this.providerRateLimited.inc({ provider: sample.provider });
  }

  /** A key's validation verdict: `valid`, `invalid`, or `no_verdict` (rate limited or unavailable). */
  keyValidation(provider: string, verdict: 'valid' | 'invalid' | 'no_verdict'): void {
    this.keyValidations.inc({ provider, verdict });
  }

  /** One run of a job, from the worker taking it to the handler's result (`status`), in seconds. */
  jobRun(queue: string, status: string, seconds: number): void {
    this.jobDuration.observe({ queue, status }, seconds);
  }

  /** A committed backfill page: `processed` records, `failed` of them stored as failed. */
  backfillPage(provider: string, processed: number, failed: number): void {
    this.recordsProcessed.inc({ provider }, processed);
    if (failed > 0) this.recordsFailed.inc({ provider }, failed);
  }

  /** A backfill's first run began `seconds` after it was started. */
  backfillStarted(seconds: number): void {
    this.backfillStartWait.observe(seconds);
  }

  /** A backfill run found no slot of its tenant and went back to the queue. */
  backfillSlotRefused(reason: 'tenant-cap' | 'fair-share'): void {
    this.backfillSlotRefusals.inc({ reason });
  }

  /** A running backfill gave its slot to a waiting tenant. */
  backfillYielded(): void {
    this.backfillYields.inc();
  }

  /** A provider call waited `seconds` for capacity (`reason`: key-rate or tenant-concurrency) before it was sent. */
  providerCallWaited(provider: string, reason: string, seconds: number): void {
    this.providerCallWait.observe({ provider, reason }, seconds);
  }

  /** A provider call gave up waiting for capacity. */
  providerCapacityWaitExceeded(provider: string, reason: string): void {
    this.providerWaitExceeded.inc({ provider, reason });
  }

  /** A key's adaptive rate moved to `fraction` (0-1] of its configured limit. */
  keyRateAdapted(provider: string, direction: 'lowered' | 'raised', fraction: number): void {
    this.keyRateChanges.inc({ provider, direction });
    this.keyRateFraction.set({ provider }, fraction);
  }

  /** Where queue depth is read from at scrape time (the queue lib sets it; the last one set wins). */
  readQueueDepthWith(reader: () => Promise<QueueDepth[]>): void {
    this.queueDepthReader = reader;
  }

  /** The metrics in Prometheus's text format, and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  private async readQueueDepth(): Promise<void> {
    this.queueJobs.reset();
    if (!this.queueDepthReader) return;
    try {
      for (const { queue, state, jobs } of await this.queueDepthReader()) this.queueJobs.set({ queue, state }, jobs);
    } catch {
      // Redis is away: the scrape goes on without queue depth rather than failing whole
      this.queueDepthFailures.inc();
    }
  }
}

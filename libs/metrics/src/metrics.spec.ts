import { afterEach, describe, expect, it } from '@jest/globals';
import { AppConfig } from '#libs/config';
import { freePort, testEnv } from '#libs/testing';
import { MetricsToken } from './bearer-token.js';
import { Metrics } from './metrics.js';
import { MetricsServer } from './metrics-server.js';

const config = (overrides: Record<string, string> = {}) => AppConfig.fromEnv(testEnv('postgresql://postgres@127.0.0.1:5432/unused', overrides));

describe(Metrics.name, () => {
  it('renders every family with bounded labels: status classes, known methods, provider outcomes and 429s', async () => {
    const metrics = new Metrics();
    metrics.httpRequest('GET', '/v1/backfills/:jobId', 200, 0.012);
    metrics.httpRequest('BREW', '/v1/backfills/:jobId', 404, 0.001);
    metrics.providerCall({ provider: 'openai', operation: 'complete', outcome: 'ok', seconds: 0.2 });
    metrics.providerCall({ provider: 'openai', operation: 'complete', outcome: 'rate_limited', seconds: 0.01 });
    metrics.keyValidation('gemini', 'invalid');
    metrics.jobRun('backfills', 'succeeded', 3.5);
    metrics.backfillPage('openai', 200, 3);
    metrics.readQueueDepthWith(() =>
      Promise.resolve([
        { queue: 'backfills', state: 'waiting', jobs: 4 },
        { queue: 'backfills', state: 'active', jobs: 1 },
      ]),
    );

    const { contentType, text } = await metrics.exposition();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('byok_http_request_duration_seconds_count{method="GET",route="/v1/backfills/:jobId",status_class="2xx"} 1');
    expect(text).toContain('byok_http_request_duration_seconds_count{method="other",route="/v1/backfills/:jobId",status_class="4xx"} 1');
    expect(text).toContain('byok_provider_calls_total{provider="openai",operation="complete",outcome="rate_limited"} 1');
    expect(text).toContain('byok_provider_call_duration_seconds_count{provider="openai",operation="complete",outcome="ok"} 1');
    expect(text).toContain('byok_provider_rate_limited_total{provider="openai"} 1');
    expect(text).toContain('byok_key_validations_total{provider="gemini",verdict="invalid"} 1');
    expect(text).toContain('byok_job_duration_seconds_sum{queue="backfills",status="succeeded"} 3.5');
    expect(text).toContain('byok_backfill_records_processed_total{provider="openai"} 200');
    expect(text).toContain('byok_backfill_records_failed_total{provider="openai"} 3');
    expect(text).toContain('byok_queue_jobs{queue="backfills",state="waiting"} 4');
    // the process's own health comes with it
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('renders scheduling waits and per-key rate state: start waits, slot refusals and yields, call waits, rate changes', async () => {
    const metrics = new Metrics();
    metrics.backfillStarted(1.5);
    metrics.backfillSlotRefused('fair-share');
    metrics.backfillSlotRefused('tenant-cap');
    metrics.backfillYielded();
    metrics.providerCallWaited('openai', 'key-rate', 0.3);
    metrics.providerCapacityWaitExceeded('gemini', 'tenant-concurrency');
    metrics.keyRateAdapted('openai', 'lowered', 0.5);

    const { text } = await metrics.exposition();
    expect(text).toContain('byok_backfill_start_wait_seconds_sum 1.5');
    expect(text).toContain('byok_backfill_slot_refusals_total{reason="fair-share"} 1');
    expect(text).toContain('byok_backfill_slot_refusals_total{reason="tenant-cap"} 1');
    expect(text).toContain('byok_backfill_slot_yields_total 1');
    expect(text).toContain('byok_provider_call_wait_seconds_sum{provider="openai",reason="key-rate"} 0.3');
    expect(text).toContain('byok_provider_capacity_wait_exceeded_total{provider="gemini",reason="tenant-concurrency"} 1');
    expect(text).toContain('byok_provider_key_rate_changes_total{provider="openai",direction="lowered"} 1');
    expect(text).toContain('byok_provider_key_rate_fraction{provider="openai"} 0.5');
  });

  it('leaves queue depth out of a scrape while Redis cannot be read, and counts that', async () => {
    const metrics = new Metrics();
    metrics.readQueueDepthWith(() => Promise.resolve([{ queue: 'ai-jobs', state: 'waiting', jobs: 2 }]));
    expect((await metrics.exposition()).text).toContain('byok_queue_jobs{queue="ai-jobs",state="waiting"} 2');
    metrics.readQueueDepthWith(() => Promise.reject(new Error('Redis is away')));
    const { text } = await metrics.exposition();
    expect(text).not.toContain('byok_queue_jobs{');
    expect(text).toContain('byok_queue_depth_read_failures_total 1');
  });

  it('keeps each registry to itself: two in one process (an API and a worker in a test) never share a series', async () => {
    const one = new Metrics();
    const two = new Metrics();
    one.backfillPage('openai', 5, 0);
    expect((await one.exposition()).text).toContain('byok_backfill_records_processed_total{provider="openai"} 5');
    expect((await two.exposition()).text).not.toContain('byok_backfill_records_processed_total{provider="openai"}');
  });
});

describe(MetricsServer.name, () => {
  let server: MetricsServer | undefined;
  afterEach(() => server?.onModuleDestroy());

  async function serve(overrides: Record<string, string>): Promise<{ metrics: Metrics; url: string }> {
    const port = await freePort();
    const settings = config({ METRICS_PORT: String(port), ...overrides });
    const metrics = new Metrics();
    server = new MetricsServer(settings, metrics, new MetricsToken(settings));
    await server.onApplicationBootstrap();
    return { metrics, url: `http://127.0.0.1:${port}` };
  }

  it('serves GET /metrics on the port, and nothing else', async () => {
    const { metrics, url } = await serve({});
    metrics.jobRun('ai-jobs', 'succeeded', 0.5);
    const scrape = await fetch(`${url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await scrape.text()).toContain('byok_job_duration_seconds_count{queue="ai-jobs",status="succeeded"} 1');
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('asks for the metrics token when one is set', async () => {
    const token = `metrics-${'t'.repeat(24)}`;
    const { url } = await serve({ METRICS_TOKEN: token });
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-enough-length' } })).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('listens nowhere without METRICS_PORT', async () => {
    const settings = config();
    server = new MetricsServer(settings, new Metrics(), new MetricsToken(settings));
    await server.onApplicationBootstrap();
    expect(settings.metrics.workerPort).toBeUndefined();
  });
});

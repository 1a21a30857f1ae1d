import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { RecordIngestService } from '#libs/records';
import { emailRecords, freePort, ProviderSimulator, SecretScanner, simulatorEnv, WorkerProcess } from '#libs/testing';
import type { AiJobView } from '../src/ai-jobs/ai-jobs.dto.js';
import { ApiHarness, type JobStarted } from './api-harness.js';
import { familiesOf, parseMetrics, sumOf } from './metrics-text.js';

const RECORDS = 12;

/**
 * /metrics on the API and the worker's metrics port, against a real worker process and the provider
 * simulator: who may read them, and that they count exactly what happened (provider calls as the
 * simulator received them, records, jobs, key validations, requests by route template), with no
 * tenant, id, key or raw path in any label.
 */
describe('Metrics (e2e, a real worker process)', () => {
  const key = `sk-${randomBytes(24).toString('hex')}`;
  const metricsToken = `metrics-${randomBytes(18).toString('base64url')}`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] } });
  let api: ApiHarness;
  let worker: WorkerProcess;
  let workerMetricsUrl: string;

  beforeAll(async () => {
    const workerPort = await freePort();
    api = await ApiHarness.start({
      ...simulatorEnv(await simulator.start()),
      METRICS_TOKEN: metricsToken,
      // read by the worker only: the API serves /metrics on its own port
      METRICS_PORT: String(workerPort),
      SYNC_PAGE_SIZE: '5',
      PROVIDER_RETRY_BASE_MS: '5',
    });
    worker = await WorkerProcess.start(api.env);
    workerMetricsUrl = `http://127.0.0.1:${workerPort}/metrics`;
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await simulator.stop();
  });

  const scrapeApi = async () => (await api.request('GET', '/metrics', { token: metricsToken })).text;
  const scrapeWorker = async () => (await fetch(workerMetricsUrl, { headers: { authorization: `Bearer ${metricsToken}` } })).text();

  it('serves /metrics to the platform admin and the metrics token only', async () => {
    const tenant = await api.newTenant();
    const tenantToken = await api.newTenantToken(tenant.id);
    const none = await api.request('GET', '/metrics', { token: null });
    const wrong = await api.request('GET', '/metrics', { token: `metrics-${randomBytes(18).toString('base64url')}` });
    const asTenant = await api.request('GET', '/metrics', { token: tenantToken });
    const asAdmin = await api.request('GET', '/metrics');
    const asReader = await api.request('GET', '/metrics', { token: metricsToken });
    expect([none.status, wrong.status, asTenant.status, asAdmin.status, asReader.status]).toEqual([401, 401, 403, 200, 200]);
    expect(asTenant.text).toContain('FORBIDDEN');
    expect(asAdmin.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(familiesOf(asReader.text)).toEqual(expect.arrayContaining(['byok_http_request_duration_seconds', 'byok_queue_jobs']));
    // the metrics token opens nothing else
    expect((await api.request('GET', '/v1/me', { token: metricsToken })).status).toBe(401);
    expect((await api.request('GET', `/v1/tenants/${tenant.id}/workspaces`, { token: metricsToken })).status).toBe(401);
  });

  it("serves the worker's metrics on its port, with the metrics token only", async () => {
    expect((await fetch(workerMetricsUrl)).status).toBe(401);
    expect((await fetch(workerMetricsUrl, { headers: { authorization: `Bearer ${api.adminToken}` } })).status).toBe(401);
    const scrape = await fetch(workerMetricsUrl, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(scrape.status).toBe(200);
    expect(familiesOf(await scrape.text())).toEqual(
      expect.arrayContaining(['byok_job_duration_seconds', 'byok_provider_calls_total', 'byok_queue_jobs', 'process_cpu_seconds_total']),
    );
  });

  it('counts what a backfill and AI jobs did: provider calls as the simulator saw them, records, jobs, validations, routes', async () => {
    simulator.clear();
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    const tenantToken = await api.newTenantToken(tenant.id);
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    // a live check from the API process: its provider call is counted there
    expect((await api.request<{ status: string }>('POST', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY/validate`)).body.status).toBe('valid');
    await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(RECORDS)), 'json');

    const backfill = (await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} })).body.jobId;
    expect((await api.waitForBackfill(backfill)).status).toBe('succeeded');
    // one AI job meets a 429 first, then goes through
    simulator.failNext('openai', { status: 429, retryAfterSeconds: 0 });
    const aiJobs = [];
    for (const text of ['Alice Johnson from Acme Corp met Bob Smith.', 'Carol Diaz of Globex wrote to Dan Brown.']) {
      aiJobs.push((await api.request<JobStarted>('POST', '/v1/ai/jobs/extract', { token: tenantToken, body: { text } })).body.jobId);
    }
    for (const jobId of aiJobs) {
      for (let job = await aiJob(tenantToken, jobId); job.status !== 'succeeded'; job = await aiJob(tenantToken, jobId)) {
        expect(job.status).not.toBe('failed');
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    }

    const fromWorker = parseMetrics(await scrapeWorker());
    const fromApi = parseMetrics(await scrapeApi());
    const calls = (samples: typeof fromApi, labels: Record<string, string> = {}) => sumOf(samples, 'byok_provider_calls_total', labels);
    // every request the simulator received was counted once, by the process that made it
    expect(calls(fromWorker) + calls(fromApi)).toBe(simulator.requests.length);
    expect(calls(fromApi, { operation: 'validate_key', outcome: 'ok' })).toBe(1);
    expect(calls(fromWorker, { outcome: 'rate_limited' })).toBe(1);
    expect(sumOf(fromWorker, 'byok_provider_rate_limited_total', { provider: 'openai' })).toBe(1);
    expect(sumOf(fromWorker, 'byok_provider_call_duration_seconds_count', { provider: 'openai' })).toBe(calls(fromWorker));
    // completions: one per record of the backfill and one per AI job, plus the retried 429
    expect(calls(fromWorker, { operation: 'complete' })).toBe(RECORDS + aiJobs.length + 1);
    expect(sumOf(fromWorker, 'byok_backfill_records_processed_total', { provider: 'openai' })).toBe(RECORDS);
    expect(sumOf(fromWorker, 'byok_backfill_records_failed_total')).toBe(0);
    expect(sumOf(fromWorker, 'byok_job_duration_seconds_count', { queue: 'backfills', status: 'succeeded' })).toBe(1);
    expect(sumOf(fromWorker, 'byok_job_duration_seconds_count', { queue: 'ai-jobs', status: 'succeeded' })).toBe(aiJobs.length);
    // each job's pre-flight gives a verdict (cached after the first), and the API's validate one
    expect(sumOf(fromWorker, 'byok_key_validations_total', { provider: 'openai', verdict: 'valid' })).toBe(1 + aiJobs.length);
    expect(sumOf(fromApi, 'byok_key_validations_total', { provider: 'openai', verdict: 'valid' })).toBe(1);
    // queue depth, read from Redis at scrape time: nothing left waiting
    expect(fromApi.filter((s) => s.name === 'byok_queue_jobs' && s.labels.state === 'waiting').map((s) => [s.labels.queue, s.value])).toEqual(
      expect.arrayContaining([
        ['backfills', 0],
        ['ai-jobs', 0],
        ['deletions', 0],
      ]),
    );
    // requests by route template, never by the path as sent
    const requests = (route: string, method = 'GET') =>
      sumOf(fromApi, 'byok_http_request_duration_seconds_count', { route, method, status_class: '2xx' });
    expect(requests('/v1/workspaces/:workspaceId/backfills', 'POST')).toBe(1);
    expect(requests('/v1/backfills/:jobId')).toBeGreaterThan(0);
    expect(requests('/v1/ai/jobs/:jobId')).toBeGreaterThan(0);
    expect(requests('/v1/tenants/:tenantId/settings/:key/validate', 'POST')).toBe(1);
  }, 60_000);

  it('puts no tenant, workspace, job id, key or raw path in any metric, whatever the URL carried', async () => {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    // a key pasted into a URL, and ids in paths
    const pasted = `sk-${randomBytes(24).toString('hex')}`;
    await api.request('GET', `/v1/backfills/${pasted}`);
    await api.request('GET', `/v1/workspaces/${workspace.id}/backfills`);
    await api.request('GET', `/v1/no-such-route/${pasted}?key=${pasted}`);
    const backfills = await api.request<{ items: { id: string }[] }>('GET', `/v1/workspaces/${workspace.id}/backfills`);
    const jobIds = backfills.body.items.map((b) => b.id);
    const needles = [
      { name: 'pasted key', value: pasted },
      { name: 'stored key', value: key },
      { name: 'metrics token', value: metricsToken },
      { name: 'admin token', value: api.adminToken },
      { name: 'tenant id', value: tenant.id },
      { name: 'tenant subdomain', value: tenant.subdomain },
      { name: 'workspace id', value: workspace.id },
      ...jobIds.map((id) => ({ name: 'job id', value: id })),
    ];
    const scanner = new SecretScanner(needles);
    const [fromApi, fromWorker] = [await scrapeApi(), await scrapeWorker()];
    expect([...scanner.scan('api metrics', fromApi), ...scanner.scan('worker metrics', fromWorker)]).toEqual([]);
    const routes = new Set(parseMetrics(fromApi).flatMap((s) => (s.labels.route ? [s.labels.route] : [])));
    expect([...routes].filter((route) => !/^(\/[a-z0-9-]*|\/:[a-zA-Z]+)*$/.test(route) && route !== 'unrouted')).toEqual([]);
    expect([...routes]).toEqual(expect.arrayContaining(['/v1/backfills/:jobId', '/v1/workspaces/:workspaceId/backfills', 'unrouted']));
  });

  async function aiJob(token: string, jobId: string) {
    return (await api.request<AiJobView>('GET', `/v1/ai/jobs/${jobId}`, { token })).body;
  }
});

import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { RecordIngestService, StoredRecordSource } from '#libs/records';
import type { MaskedSetting } from '#libs/byok';
import type { GraphPage } from '#libs/graphrag';
import { emailRecords, fingerprintForSimulator, type LogEntry, ProviderSimulator, simulatorEnv } from '#libs/testing';
import { ApiHarness, type JobStarted, type ListOf } from './api-harness.js';
import { keyEchoes } from './key-echo.js';

/**
 * The three "Expected Behavior" scenarios of the BYOK key-fix deployment summary, end to end over
 * HTTP with a real worker, real Postgres and Redis, and the provider simulator.
 */
describe('Backfill scenarios from the key-fix deployment summary (e2e)', () => {
  const hex = () => randomBytes(12).toString('hex');
  /** Each scenario runs for OpenAI (the default provider) and for Anthropic (chosen with GRAPHRAG_PROVIDER). */
  const PROVIDERS = {
    openai: { tenantKey: `sk-brennan-${hex()}-4207`, revokedKey: `sk-revoked-${hex()}-9999`, modelsPath: '/openai/v1/models' },
    anthropic: {
      tenantKey: `sk-ant-api03-brennan-${hex()}-4207`,
      revokedKey: `sk-ant-api03-revoked-${hex()}-9999`,
      modelsPath: '/anthropic/v1/models/claude-haiku-4-5',
    },
  } as const;
  const platformKey = `sk-platform-${hex()}-6100`;
  const globalEnvKey = `sk-global-${hex()}-6100`;
  const simulator = new ProviderSimulator({
    validKeys: {
      openai: [PROVIDERS.openai.tenantKey, platformKey, globalEnvKey],
      deepseek: [platformKey, globalEnvKey],
      anthropic: [PROVIDERS.anthropic.tenantKey, platformKey, globalEnvKey],
    },
  });
  let api: ApiHarness;
  const savedEnv = { ...process.env };
  // the worker runs in this process: the spy sees every page any backfill fetches, per workspace
  let fetchPage: jest.SpiedFunction<StoredRecordSource['fetchPage']>;

  beforeAll(async () => {
    // the environment offers every global key the earlier system fell back to (and the SDKs' own
    // variables); none may be used
    process.env.OPENAI_API_KEY = globalEnvKey;
    process.env.DEEPSEEK_API_KEY = globalEnvKey;
    process.env.ANTHROPIC_API_KEY = globalEnvKey;
    process.env.ANTHROPIC_AUTH_TOKEN = globalEnvKey;
    fetchPage = jest.spyOn(StoredRecordSource.prototype, 'fetchPage');
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        PLATFORM_OPENAI_API_KEY: platformKey,
        PLATFORM_DEEPSEEK_API_KEY: platformKey,
        PLATFORM_ANTHROPIC_API_KEY: platformKey,
        LOG_LEVEL: 'info',
      },
      { worker: true },
    );
  });
  beforeEach(() => {
    simulator.clear();
    api.logs.clear();
    fetchPage.mockClear();
  });
  afterAll(async () => {
    process.env = savedEnv;
    fetchPage.mockRestore();
    await api.close();
    await simulator.stop();
  });

  /** Pages fetched from one workspace's records, by any backfill. */
  const fetchesOf = (workspaceId: string) =>
    fetchPage.mock.contexts.filter((source) => (source as { workspaceId?: string } | undefined)?.workspaceId === workspaceId).length;

  async function startBackfill(workspaceId: string) {
    const res = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} });
    expect(res.status).toBe(202);
    return res.body.jobId;
  }

  describe.each(['openai', 'anthropic'] as const)('with %s', (provider) => {
    const { tenantKey, revokedKey, modelsPath } = PROVIDERS[provider];
    const setting = `${provider.toUpperCase()}_API_KEY`;

    async function brennanWorkspace(options: { key?: string } = {}) {
      const tenant = await api.newTenant({ subdomain: `brennan-${randomBytes(3).toString('hex')}` });
      const workspace = await api.newWorkspace(tenant.id);
      if (provider !== 'openai') {
        await api.request('PUT', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`, { body: { value: provider } });
      }
      if (options.key) await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${setting}`, { body: { value: options.key } });
      const ingest = await api.app.get(RecordIngestService).ingest(workspace.id, JSON.stringify(emailRecords(25)), 'json');
      expect(ingest.accepted).toBe(25);
      return { tenant, workspace };
    }

    it("scenario 1: a tenant with a valid key: the tenant's key is used, never a global one, and the graph is extracted", async () => {
      const { tenant, workspace } = await brennanWorkspace({ key: tenantKey });

      const job = await api.waitForBackfill(await startBackfill(workspace.id));

      expect(job).toMatchObject({
        status: 'succeeded',
        failure: null,
        provider,
        keySource: 'tenant',
        keyLast4: '4207',
        counters: { recordsFetched: 25, recordsProcessed: 25 },
      });
      expect(job.counters.entities).toBeGreaterThan(10);
      expect(job.counters.relationships).toBeGreaterThan(10);
      // the spy the refusals below rely on sees the pages of a backfill that runs
      expect(fetchesOf(workspace.id)).toBeGreaterThanOrEqual(1);
      // the simulator proves which key reached the provider: only the tenant's, on every call
      const seen = new Set(simulator.keysSeen(provider));
      expect(seen).toEqual(new Set([fingerprintForSimulator(tenantKey)]));
      expect(simulator.requests.filter((r) => r.provider !== provider)).toEqual([]);

      const graph = await api.request<GraphPage>('GET', `/v1/workspaces/${workspace.id}/graph?q=acme`);
      expect(graph.status).toBe(200);
      expect(graph.body.entities.map((e: { name: string }) => e.name)).toContain('Acme Corp');
      const prisma = api.app.get(PrismaService);
      await expect(prisma.entity.count({ where: { workspaceId: workspace.id } })).resolves.toBe(job.counters.entities);

      const messages = api.logs.messages();
      expect(messages).toContain('Resolved tenant_id from workspace_id');
      expect(messages).toContain(`Using tenant's ${setting} (...4207)`);
      const resolvedLine = api.logs.lines.map((l) => JSON.parse(l) as LogEntry).find((l) => l.msg === 'Resolved tenant_id from workspace_id');
      expect(resolvedLine).toMatchObject({ workspaceId: workspace.id, tenantId: tenant.id });
      expect(keyEchoes('log', api.logs.lines, [tenantKey, platformKey, globalEnvKey])).toEqual([]);
    });

    it('scenario 2: a tenant without a key fails at once with a clear reason and fetches no record', async () => {
      const { tenant, workspace } = await brennanWorkspace();

      const job = await api.waitForBackfill(await startBackfill(workspace.id));

      expect(job).toMatchObject({
        status: 'failed',
        failure: {
          code: 'NO_API_KEY',
          message: `Skipping backfill: tenant ${tenant.subdomain} has no valid ${setting}. Add the key on the Provider keys page.`,
        },
        counters: { recordsFetched: 0, recordsProcessed: 0, entities: 0, relationships: 0 },
        keySource: null,
      });
      expect(fetchesOf(workspace.id)).toBe(0);
      expect(simulator.requests).toEqual([]);
      const warning = api.logs.lines.map((l) => JSON.parse(l) as LogEntry).find((l) => l.msg?.startsWith('Skipping backfill'));
      expect(warning).toMatchObject({ level: 40, code: 'NO_API_KEY' });

      // positive control: the same spy, the same workspace and records, once the tenant has a key, sees
      // the pages fetched, so the zero above cannot come from a spy that sees nothing
      await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${setting}`, { body: { value: tenantKey } });
      const control = await api.waitForBackfill(await startBackfill(workspace.id));
      expect(control).toMatchObject({ status: 'succeeded', counters: { recordsFetched: 25 } });
      expect(fetchesOf(workspace.id)).toBeGreaterThanOrEqual(1);
    });

    it('scenario 3: a tenant with an invalid key fails with an authentication error and its details', async () => {
      const revoked = revokedKey;
      const { tenant, workspace } = await brennanWorkspace({ key: revoked });

      const job = await api.waitForBackfill(await startBackfill(workspace.id));

      expect(job.status).toBe('failed');
      expect(job.failure!.code).toBe('INVALID_API_KEY');
      expect(job.failure!.message).toContain(`tenant ${tenant.subdomain}`);
      expect(job.failure!.message).toContain('...9999');
      expect(job.failure!.message).toContain(`rejected by ${provider}`);
      expect(job.counters.recordsFetched).toBe(0);
      expect(fetchesOf(workspace.id)).toBe(0);
      // one live check with the tenant's own key, no fallback to any other key or provider
      expect(simulator.requests.map((r) => [r.provider, r.path, r.keyFingerprint])).toEqual([
        [provider, modelsPath, fingerprintForSimulator(revoked)],
      ]);
      const settings = await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenant.id}/settings`);
      expect(settings.body.items.find((item) => item.key === setting)).toMatchObject({ validationStatus: 'invalid' });
      expect(keyEchoes('job and logs', [JSON.stringify(job), ...api.logs.lines], [revoked])).toEqual([]);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AiKeyMode } from '#libs/database';
import { emailRecords, ProviderSimulator, type SimulatorUrls, simulatorEgressEnv, simulatorEnv } from '#libs/testing';
import { ApiHarness, type JobStarted } from './api-harness.js';

/** How the hostile endpoint rewrites each successful chat completion's body (text in, text out). */
const MUTATIONS: Record<string, (text: string) => string> = {
  html: () => '<html><body>gateway</body></html>',
  'empty object': () => '{}',
  null: () => 'null',
  'choices null': () => JSON.stringify({ id: 'x', object: 'chat.completion', choices: null }),
  'content an object': (text) => {
    const json = JSON.parse(text) as { choices: { message: { content: unknown } }[] };
    json.choices[0].message.content = { nested: [1, 2, 3] };
    return JSON.stringify(json);
  },
  'usage strings': (text) => {
    const json = JSON.parse(text) as Record<string, unknown>;
    json.usage = { prompt_tokens: '12', completion_tokens: [1], total_tokens: {} };
    return JSON.stringify(json);
  },
};

/**
 * Breaker: a tenant's own OpenAI-compatible endpoint is a server the tenant controls, so whatever it
 * answers is hostile input. This endpoint answers as the simulator does, but rewrites each chat
 * completion: token counts past Postgres' bigint, or bodies of the wrong shape. The backfill must
 * still end in a terminal state with a typed failure, and the tenant's usage must stay readable.
 */
describe('A tenant endpoint answering hostile completions (breaker, e2e, in-process worker)', () => {
  const simulator = new ProviderSimulator({ validKeys: { 'custom-openai': ['*'] } });
  let urls: SimulatorUrls;
  let api: ApiHarness;
  let proxy: Server;
  let proxyBase: string;
  let mutate: (text: string) => string = (text) => text;

  beforeAll(async () => {
    urls = await simulator.start();
    // forwards to the simulator's OpenAI-compatible server, rewriting the usage of every chat completion
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const target = new URL(urls.customOpenAiBaseUrl);
        const path = target.pathname.replace(/\/$/, '') + (req.url ?? '').replace(/^\/v1/, '');
        void fetch(new URL(path, target), {
          method: req.method,
          headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
          body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
        }).then(async (answer) => {
          let text = await answer.text();
          if (answer.ok && (req.url ?? '').endsWith('/chat/completions')) {
            text = mutate(text);
          }
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(text);
        });
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyBase = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1`;
    api = await ApiHarness.start({ ...simulatorEnv(urls), ...simulatorEgressEnv(), SYNC_PAGE_SIZE: '4' }, { worker: true });
  });
  afterAll(async () => {
    await api?.close();
    await new Promise((resolve) => proxy?.close(resolve));
    await simulator.stop();
  });

  const backfillEnds = async () => {
    const tenant = await api.newTenant({ aiKeyMode: AiKeyMode.byok });
    const settings = {
      GRAPHRAG_PROVIDER: 'custom-openai',
      CUSTOM_OPENAI_API_KEY: `sk-custom-${randomBytes(12).toString('hex')}`,
      CUSTOM_OPENAI_BASE_URL: proxyBase,
      CUSTOM_OPENAI_MODEL: 'llama-3.1-8b-instruct',
    };
    for (const [key, value] of Object.entries(settings)) {
      expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${key}`, { body: { value } })).status).toBe(200);
    }
    const workspace = await api.newWorkspace(tenant.id);
    expect((await api.request('POST', `/v1/workspaces/${workspace.id}/records`, { body: emailRecords(6) })).status).toBe(200);
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    expect(started.status).toBe(202);
    const done = await api.waitForBackfill(started.body.jobId, undefined, 40_000);
    expect(['succeeded', 'failed']).toContain(done.status);
    // a failure, if any, is typed, not an internal error
    if (done.status === 'failed') expect(done.failure).toMatchObject({ code: expect.not.stringMatching(/^INTERNAL/) as unknown });
    const day = new Date().toISOString().slice(0, 10);
    const next = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const usage = await api.request('GET', `/v1/tenants/${tenant.id}/usage?from=${day}&to=${next}`);
    expect(usage.status).toBe(200);
  };

  it('token usage past bigint: the backfill ends and is not an internal error', async () => {
    mutate = (text) => {
      const json = JSON.parse(text) as Record<string, unknown>;
      json.usage = { prompt_tokens: 1e19, completion_tokens: 1e19, total_tokens: 2e19 };
      return JSON.stringify(json);
    };
    await backfillEnds();
  }, 60_000);

  it.each(Object.keys(MUTATIONS))(
    'an answer rewritten as %s: the backfill ends with a typed failure or success',
    async (name) => {
      mutate = MUTATIONS[name];
      await backfillEnds();
    },
    60_000,
  );
});

import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { ByokKeyStore, KeyResolver, type ResolvedKey } from '#libs/byok';
import { EXTRACTION_JSON_SCHEMA, EXTRACTION_SYSTEM_PROMPT } from '#libs/graphrag';
import { InfrastructureModule } from '#libs/infrastructure';
import { PinoLoggerService } from '#libs/logging';
import { createNodeHttpFetch, PROVIDER_DEFAULTS } from '#libs/llm';
import { TenantResolver } from '#libs/tenancy';
import { type CallCounter, newCallCounter, type ProviderSession, ProviderSessions, TenantLlmModule } from '#libs/tenant-llm';
import { createTestDatabase, deleteRedisPrefix, Factories, testConfig } from '#libs/testing';
import { startSimulatorProcess } from './simulator-process.js';
import { fmt, summarize } from './stats.js';

/**
 * What the product adds to one provider call, against the openai SDK called directly, all on the
 * same simulator (its own process, no latency) with the same request: the extraction prompt and
 * JSON schema over a short email, the answer's JSON parsed.
 *   direct:  one OpenAI client made once with the raw key; `chat.completions.create`; JSON.parse.
 *            Twice: on the SDK's own fetch (Node's), and on the transport the product gives the SDK
 *            (libs/llm's node:http fetch, cheaper per request), so the overhead reads with and
 *            without the transports' difference.
 *   product: as a job gets its key and calls: KeyResolver.resolve for the tenant (cached tenant and
 *            setting rows, the key decrypted, the resolution logged at info, as production logs),
 *            ProviderSessions.open (a client of its own for the key), then the session's counted,
 *            retried call of the provider client (libs/llm: finish-reason checks, JSON parse). Per
 *            call here, though a job resolves and opens once: so also a call in a session already
 *            open, what each later call of a job costs.
 * Warm-up first, then one call of each per round, the order rotating, so drift in a shared host's
 * load hits all alike. Prints p50/p99 of each, the overheads as differences of p50 and p99 and as
 * the median of the per-round differences (steadier under load), and this process's CPU a call, in ms, then the product's steps
 * before the call timed alone, in us. Target on 2 cores: overhead p50 <= 0.2 ms.
 *   npm run bench:overhead
 *   npm run bench:overhead -- --iterations 20000 --warmup 2000
 */
const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '1000' },
  },
});
const ITERATIONS = Number(args.iterations);
const WARMUP = Number(args.warmup);
const EMAIL = 'From: alice.johnson@example.test\nSubject: About the renewal\n\nAlice Johnson from Acme Corp met Bob Smith about the renewal.';

const key = `sk-bench-${randomBytes(16).toString('hex')}`;
const simulator = await startSimulatorProcess(`openai:${key}`, 0);
const database = await createTestDatabase();
// info, as production logs: the resolution's log line is part of its cost (written to nowhere)
const config = testConfig(database.url, { ...simulator.env, LOG_LEVEL: 'info' });
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

interface Contender {
  label: string;
  call: () => Promise<unknown>;
  /** Wall time of each timed call, ns. */
  times: bigint[];
  /** CPU time this process spent on each timed call (user + system), ns: what the call costs a busy worker, less swayed by waiting for a core. */
  cpu?: bigint[];
}

async function timed(contender: Contender): Promise<void> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await contender.call();
  contender.times.push(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  contender.cpu?.push(BigInt((used.user + used.system) * 1_000));
}

/** The median of a[i] - b[i] over the rounds, in us: each difference taken between calls made moments apart. */
function pairedMedianUs(a: bigint[], b: bigint[]): number {
  const differences = a.map((t, i) => Number(t - b[i]) / 1_000).sort((x, y) => x - y);
  return differences[Math.floor(differences.length / 2)];
}

const ms = (us: number) => fmt(us / 1_000, 3).padStart(7);

@Module({ imports: [InfrastructureModule.forRoot(config, { destination: discard }), TenantLlmModule] })
class BenchModule {}

const app = await NestFactory.createApplicationContext(BenchModule, { bufferLogs: true });
app.useLogger(app.get(PinoLoggerService));
try {
  const factories = new Factories(app);
  const tenant = await factories.newTenant();
  await app.get(ByokKeyStore).put(tenant.id, 'OPENAI_API_KEY', key);
  const { tenantId, subdomain } = await app.get(TenantResolver).tenant(tenant.id);
  const keys = app.get(KeyResolver);
  const sessions = app.get(ProviderSessions);
  const jobId = crypto.randomUUID();

  const sdkFetch = new OpenAI({ apiKey: key, baseURL: simulator.env.OPENAI_BASE_URL, maxRetries: 0 });
  const productFetch = new OpenAI({ apiKey: key, baseURL: simulator.env.OPENAI_BASE_URL, maxRetries: 0, fetch: createNodeHttpFetch() });
  const directCall = (client: OpenAI) => async () => {
    const completion = await client.chat.completions.create({
      model: PROVIDER_DEFAULTS.openai.model,
      messages: [
        { role: 'system', content: EXTRACTION_SYSTEM_PROMPT },
        { role: 'user', content: EMAIL },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: EXTRACTION_JSON_SCHEMA.name, schema: EXTRACTION_JSON_SCHEMA.schema, strict: true },
      },
    });
    return JSON.parse(completion.choices[0].message.content ?? '') as unknown;
  };
  const resolve = () => keys.resolve({ tenantId, provider: 'openai' });
  const open = (resolved: ResolvedKey) =>
    sessions.open({ tenantId, jobId, jobKind: 'ai_job', key: resolved, context: { tenantLabel: subdomain, keyLast4: resolved.last4 } });
  const extract = (session: ProviderSession) => async () => {
    const calls: CallCounter = newCallCounter();
    const answer = await session.counted(calls)(() =>
      session.llm.complete({ system: EXTRACTION_SYSTEM_PROMPT, user: EMAIL, jsonSchema: EXTRACTION_JSON_SCHEMA }),
    );
    return answer.json;
  };
  const openSession = open(await resolve());

  const contenders: Contender[] = [
    { label: "direct SDK on the SDK's own fetch", call: directCall(sdkFetch), times: [], cpu: [] },
    { label: "direct SDK on the product's transport", call: directCall(productFetch), times: [], cpu: [] },
    { label: 'product: resolve + open session + call', call: async () => extract(open(await resolve()))(), times: [], cpu: [] },
    { label: "product: call in a job's open session", call: extract(openSession), times: [], cpu: [] },
  ];
  for (let i = 0; i < WARMUP; i++) for (const { call } of contenders) await call();
  for (let i = 0; i < ITERATIONS; i++) {
    // one call of each per round, the order rotating, so drift in the host's load hits all alike
    for (let j = 0; j < contenders.length; j++) await timed(contenders[(i + j) % contenders.length]);
  }
  // the steps before the call, alone: microseconds, lost in the calls' noise above
  const steps: Contender[] = [
    { label: 'KeyResolver.resolve', call: resolve, times: [] },
    { label: 'ProviderSessions.open', call: async () => open(await resolve()), times: [] },
  ];
  for (let i = 0; i < ITERATIONS; i++) for (const step of steps) await timed(step);

  const [sdk, sameTransport, perCall, inSession] = contenders;
  console.log(`per-call overhead: the product's key resolution and provider client against the openai SDK called directly (Node ${process.version})`);
  console.log(`  ${ITERATIONS} calls of each after ${WARMUP} of warm-up, interleaved; simulator in its own process, 0 ms latency`);
  for (const contender of contenders) {
    const { p50, p99 } = summarize(contender.times);
    console.log(`  ${contender.label.padEnd(48)} p50 ${ms(p50)} ms  p99 ${ms(p99)} ms  CPU p50 ${ms(summarize(contender.cpu!).p50)} ms`);
  }
  console.log('  overhead: differences of p50 and p99; paired: the median of the per-round differences (steadier on a loaded host); CPU p50:');
  for (const [product, direct] of [
    [perCall, sdk],
    [perCall, sameTransport],
    [inSession, sameTransport],
  ]) {
    const a = summarize(product.times);
    const b = summarize(direct.times);
    console.log(
      `  ${`${product.label.split(': ')[1]} vs ${direct.label.split(' on ')[1]}`.padEnd(64)} ` +
        `p50 ${ms(a.p50 - b.p50)} ms  p99 ${ms(a.p99 - b.p99)} ms  paired ${ms(pairedMedianUs(product.times, direct.times))} ms  ` +
        `CPU p50 ${ms(summarize(product.cpu!).p50 - summarize(direct.cpu!).p50)} ms`,
    );
  }
  console.log('  target: overhead p50 <= 0.200 ms');
  console.log(`  steps alone: ${steps.map((step) => `${step.label} p50 ${fmt(summarize(step.times).p50)} us`).join(', ')} (open includes a resolve)`);
} finally {
  await app.close();
  simulator.stop();
  await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
  await database.drop();
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ByokKeyStore, type ResolvedKey } from '#libs/byok';
import { last4Of, type ProviderId } from '#libs/common';
import { type LlmProvider, LlmClientFactory, RateLimitedError } from '#libs/llm';
import { Metrics } from '#libs/metrics';
import { RedisService } from '#libs/redis';
import { fingerprintForSimulator, MediumContext, ProviderSimulator, simulatorEnv } from '#libs/testing';
import {
  CapacityWaitExceededError,
  KeyRateLimiter,
  ProviderThrottle,
  TenantCallPermits,
  TenantLlmModule,
  ThrottleEvents,
  windowPlan,
} from '#libs/tenant-llm';

/** The limits run on a 4 s period here (the simulator's window matches), so a test sees several periods in seconds. */
const PERIOD_S = 4;
const CALL = { system: 'Extract entities.', user: 'Alice Johnson from Acme Corp met Bob Smith.' };

/** What one process of the throttles is: its own services on the shared Redis prefix. */
interface Throttles {
  context: MediumContext;
  rates: KeyRateLimiter;
  throttle: ProviderThrottle;
}

describe('Provider throttles (medium: real Redis, the provider simulator)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'], anthropic: ['*'] } });
  let first: Throttles;
  let second: Throttles;
  let env: Record<string, string>;

  /** `shared`: on that context's database and (unless `sharePrefix` is false) its Redis prefix, which closing deletes. */
  async function throttles(env: Record<string, string>, shared?: MediumContext, sharePrefix = true): Promise<Throttles> {
    const context = await MediumContext.create({
      env: { ...env, ...(shared && sharePrefix ? { REDIS_PREFIX: shared.config.redisPrefix } : {}) },
      imports: [TenantLlmModule],
      ...(shared ? { database: shared.database } : {}),
    });
    const events = context.get(ThrottleEvents);
    const rates = new KeyRateLimiter(context.get(RedisService), context.config, events, {
      periodS: PERIOD_S,
      aimd: { increaseAfterMs: 300, decreaseCooldownMs: 200 },
    });
    const permits = new TenantCallPermits(context.get(RedisService), context.config, events);
    return { context, rates, throttle: new ProviderThrottle(rates, permits, context.get(ByokKeyStore), context.config) };
  }

  beforeAll(async () => {
    env = { ...simulatorEnv(await simulator.start()), TENANT_MAX_CONCURRENCY: '3', PROVIDER_RATE_LIMIT_WAIT_MS: '20000' };
    first = await throttles(env);
    second = await throttles(env, first.context);
  });
  afterAll(async () => {
    await second?.context.close();
    await first?.context.close();
    await simulator.stop();
  });

  /** A tenant with its own key of `provider` (by fingerprint only) and, optionally, its rate settings. */
  async function tenantWith(settings: Record<string, string> = {}, provider: ProviderId = 'openai') {
    const tenant = await first.context.newTenant();
    for (const [name, value] of Object.entries(settings)) await first.context.get(ByokKeyStore).put(tenant.id, name, value);
    const key =
      provider === 'anthropic' ? `sk-ant-api03-throttle-${randomBytes(24).toString('hex')}` : `sk-throttle-${randomBytes(12).toString('hex')}`;
    const resolved: ResolvedKey = { provider, key, source: 'tenant', fingerprint: randomBytes(16).toString('hex'), last4: last4Of(key) };
    const client = (on: Throttles): LlmProvider =>
      on.throttle.wrap(
        on.context.get(LlmClientFactory).create(provider, key, { tenantLabel: tenant.subdomain, keyLast4: resolved.last4 }),
        tenant.id,
        resolved,
      );
    return { tenantId: tenant.id, resolved, simulated: fingerprintForSimulator(key), client };
  }

  /** Runs `count` calls, `concurrency` at a time; resolves to how each ended. */
  async function run(count: number, concurrency: number, call: () => Promise<unknown>): Promise<('ok' | '429' | 'waited-out')[]> {
    const outcomes: ('ok' | '429' | 'waited-out')[] = [];
    let next = 0;
    const lane = async () => {
      while (next < count) {
        next++;
        try {
          await call();
          outcomes.push('ok');
        } catch (error) {
          if (error instanceof CapacityWaitExceededError) outcomes.push('waited-out');
          else if (error instanceof RateLimitedError) outcomes.push('429');
          else throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return outcomes;
  }

  it('sends a key no more than its limit in any sliding period, from two processes at once, and the provider answers no 429', async () => {
    const limit = 40;
    simulator.setKeyRateLimit(limit, PERIOD_S * 1_000);
    const { client, simulated } = await tenantWith({ OPENAI_RPM: String(limit) });
    const calls = 2 * windowPlan(limit, PERIOD_S).perWindow * 3;

    const outcomes = await Promise.all([
      run(calls / 2, 6, () => client(first).complete(CALL)),
      run(calls / 2, 6, () => client(second).complete(CALL)),
    ]);

    expect(outcomes.flat()).toEqual(Array.from({ length: calls }, () => 'ok'));
    expect(simulator.keyStats(simulated)).toMatchObject({ completions: calls, rateLimited: 0 });
    simulator.setKeyRateLimit(undefined);
  }, 60_000);

  it('lowers a key rate after the provider answers 429 (AIMD), and raises it back to the limit on successes', async () => {
    // the tenant says 40 a period; the provider allows 6
    simulator.setKeyRateLimit(6, PERIOD_S * 1_000);
    const { client, resolved } = await tenantWith({ OPENAI_RPM: '40' });
    const key = { provider: resolved.provider, fingerprint: resolved.fingerprint };
    const adapted: number[] = [];
    first.context.get(ThrottleEvents).on('rate-adapted', ({ fraction }) => adapted.push(fraction));

    const outcomes = await run(20, 8, () => client(first).complete(CALL));

    expect(outcomes).toContain('429');
    expect(Math.min(...adapted)).toBeLessThanOrEqual(0.5);
    expect(await first.rates.fractionOf(key)).toBeLessThan(1);
    // the other process reads the same lowered rate from Redis
    expect(await second.rates.fractionOf(key)).toBe(await first.rates.fractionOf(key));

    simulator.setKeyRateLimit(undefined);
    const fractions: number[] = [];
    while ((await first.rates.fractionOf(key)) < 1) {
      await client(first).complete(CALL);
      const fraction = await first.rates.fractionOf(key);
      if (fractions.at(-1) !== fraction) fractions.push(fraction);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(fractions.length).toBeGreaterThan(1);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
    expect(fractions.at(-1)).toBe(1);
    // operators see it: the rate changes both ways, the key back at its whole rate, and the calls that waited
    const { text } = await first.context.get(Metrics).exposition();
    expect(text).toMatch(/byok_provider_key_rate_changes_total\{provider="openai",direction="lowered"\} [1-9]/);
    expect(text).toMatch(/byok_provider_key_rate_changes_total\{provider="openai",direction="raised"\} [1-9]/);
    expect(text).toContain('byok_provider_key_rate_fraction{provider="openai"} 1');
    expect(text).toMatch(/byok_provider_call_wait_seconds_count\{provider="openai",reason="key-rate"\} [1-9]/);
  }, 60_000);

  it('holds a tenant to TENANT_MAX_CONCURRENCY calls in flight across two processes', async () => {
    const { client, simulated } = await tenantWith();
    const other = await tenantWith();
    const gate = simulator.gate({ keyFingerprint: simulated });

    const calls = [
      ...Array.from({ length: 5 }, () => client(first).complete(CALL)),
      ...Array.from({ length: 5 }, () => client(second).complete(CALL)),
    ];
    await gate.waitForHeld(3);
    // another tenant is not held up by this one's cap
    await other.client(first).complete(CALL);
    expect(simulator.keyStats(simulated).inFlight).toBe(3);
    for (let released = 0; released < 10; released++) {
      await gate.waitForHeld(1);
      gate.release(1);
    }
    await Promise.all(calls);

    expect(simulator.keyStats(simulated)).toMatchObject({ completions: 10, maxInFlight: 3, inFlight: 0 });
    gate.open();
  }, 60_000);
  describe('Anthropic keys: ANTHROPIC_RPM and ANTHROPIC_TPM', () => {
    it("are the limits of an anthropic key (another provider's settings are not), and the defaults when unset", async () => {
      const own = await tenantWith({ ANTHROPIC_RPM: '12', ANTHROPIC_TPM: '34567', OPENAI_RPM: '99', OPENAI_TPM: '99999' }, 'anthropic');
      const otherOnly = await tenantWith({ OPENAI_RPM: '99', OPENAI_TPM: '99999' }, 'anthropic');

      await expect(first.throttle.limitsFor(own.tenantId, own.resolved)).resolves.toEqual({ rpm: 12, tpm: 34567 });
      // PROVIDER_DEFAULT_RPM / _TPM are unset here: 0, no limit
      await expect(first.throttle.limitsFor(otherOnly.tenantId, otherOnly.resolved)).resolves.toEqual({ rpm: 0, tpm: 0 });
    });

    it('ANTHROPIC_RPM holds calls back: past it, a call is not sent (with no wait allowed, it fails CAPACITY_WAIT_EXCEEDED at once)', async () => {
      // a process of the throttles that may not wait at all: a call past the key's rate fails instead of waiting for the next window
      // (the tenants' settings are in the shared database; its limits in a Redis prefix of its own, deleted when it closes)
      const impatient = await throttles({ ...env, PROVIDER_RATE_LIMIT_WAIT_MS: '0' }, first.context, false);
      try {
        // 2 a period is one call a window (windowPlan): the second call of a window is over the limit
        expect(windowPlan(2, PERIOD_S).perWindow).toBe(1);
        const limited = await tenantWith({ ANTHROPIC_RPM: '2' }, 'anthropic');
        const free = await tenantWith({ OPENAI_RPM: '2' }, 'anthropic');

        const outcomes = async (tenant: typeof limited) => run(2, 1, () => tenant.client(impatient).complete(CALL));
        await expect(outcomes(limited)).resolves.toEqual(['ok', 'waited-out']);
        // the same calls on an anthropic key with another provider's rate only: nothing holds them
        await expect(outcomes(free)).resolves.toEqual(['ok', 'ok']);
        expect(simulator.keyStats(limited.simulated)).toMatchObject({ completions: 1, rateLimited: 0 });
        expect(simulator.keyStats(free.simulated)).toMatchObject({ completions: 2 });
      } finally {
        await impatient.context.close();
      }
    });

    it("a 429 from Anthropic's wire (retry-after) lowers an anthropic key's rate, shared by every process; without ANTHROPIC_RPM there is no rate to lower", async () => {
      const limited = await tenantWith({ ANTHROPIC_RPM: '40' }, 'anthropic');
      const unlimited = await tenantWith({ OPENAI_RPM: '40' }, 'anthropic');
      const refOf = ({ resolved }: { resolved: ResolvedKey }) => ({ provider: resolved.provider, fingerprint: resolved.fingerprint });

      for (const tenant of [limited, unlimited]) {
        simulator.failNext('anthropic', { status: 429, retryAfterSeconds: 2 });
        const error = await tenant
          .client(first)
          .complete(CALL)
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RateLimitedError);
        expect(error).toMatchObject({ provider: 'anthropic', retryAfterMs: 2_000 });
      }

      const lowered = await first.rates.fractionOf(refOf(limited));
      expect(lowered).toBeLessThan(1);
      expect(await second.rates.fractionOf(refOf(limited))).toBe(lowered);
      expect(await first.rates.fractionOf(refOf(unlimited))).toBe(1);
    });
  });
});

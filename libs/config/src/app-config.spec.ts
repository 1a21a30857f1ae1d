import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { AppConfig, ConfigError } from './app-config.js';

const key = () => randomBytes(32).toString('base64');
const valid = () => ({
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/app',
  BYOK_MASTER_KEYS: `v1:${key()},v2:${key()}`,
  BYOK_ACTIVE_KEY_VERSION: 'v2',
  BYOK_FINGERPRINT_KEY: key(),
});

describe(AppConfig.name, () => {
  it('parses a complete environment with defaults', () => {
    const config = AppConfig.fromEnv({ ...valid(), PLATFORM_OPENAI_API_KEY: 'sk-platform', CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(config.port).toBe(3000);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect([...config.masterKeys.keys()]).toEqual(['v1', 'v2']);
    expect(config.activeKeyVersion).toBe('v2');
    expect(config.platformKeys).toEqual({ openai: 'sk-platform' });
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it("reads Anthropic's platform key and base URL like the other providers'", () => {
    const config = AppConfig.fromEnv({
      ...valid(),
      PLATFORM_ANTHROPIC_API_KEY: 'sk-ant-platform',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:4010/anthropic',
    });
    expect(config.platformKeys).toEqual({ anthropic: 'sk-ant-platform' });
    expect(config.providers.baseUrls).toEqual({ anthropic: 'http://127.0.0.1:4010/anthropic' });
    // the SDK's own variable is never a tenant's key
    expect(AppConfig.fromEnv({ ...valid(), ANTHROPIC_API_KEY: 'sk-ant-env' }).platformKeys).toEqual({});
  });

  it('sizes the pools, the graph statement timeout, the graph page cache and the graph bulkhead', () => {
    const defaults = AppConfig.fromEnv(valid());
    expect(defaults.databasePoolSize).toBe(10);
    expect(defaults.graph).toEqual({ poolSize: 4, statementTimeoutMs: 5_000, pageCacheBytes: 32 * 1024 * 1024, maxConcurrentRequests: 8 });
    const set = AppConfig.fromEnv({
      ...valid(),
      DATABASE_POOL_SIZE: '20',
      GRAPH_DATABASE_POOL_SIZE: '2',
      GRAPH_STATEMENT_TIMEOUT_MS: '250',
      GRAPH_PAGE_CACHE_MB: '0.5',
      GRAPH_MAX_CONCURRENT_REQUESTS: '3',
    });
    expect(set.databasePoolSize).toBe(20);
    expect(set.graph).toEqual({ poolSize: 2, statementTimeoutMs: 250, pageCacheBytes: 512 * 1024, maxConcurrentRequests: 3 });
  });

  it('reads the rate limits and TRUST_PROXY as express takes it', () => {
    const defaults = AppConfig.fromEnv(valid());
    expect(defaults.rateLimits).toEqual({ windowS: 60, authFailuresPerAddress: 20, authFailuresPerTokenPrefix: 10, tenantWrites: 600 });
    expect(defaults.trustProxy).toBe(false);
    const set = AppConfig.fromEnv({
      ...valid(),
      RATE_LIMIT_WINDOW_S: '10',
      RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '3',
      RATE_LIMIT_AUTH_FAILURES_PER_TOKEN_PREFIX: '2',
      RATE_LIMIT_TENANT_WRITES: '5',
      TRUST_PROXY: 'true',
    });
    expect(set.rateLimits).toEqual({ windowS: 10, authFailuresPerAddress: 3, authFailuresPerTokenPrefix: 2, tenantWrites: 5 });
    expect(set.trustProxy).toBe(true);
    expect(AppConfig.fromEnv({ ...valid(), TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(AppConfig.fromEnv({ ...valid(), TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
  });

  it('reads where metrics are served: no worker port and no metrics token unless set, loopback by default', () => {
    expect(AppConfig.fromEnv(valid()).metrics).toEqual({ token: undefined, workerPort: undefined, workerHost: '127.0.0.1' });
    const token = 'm'.repeat(24);
    expect(AppConfig.fromEnv({ ...valid(), METRICS_TOKEN: token, METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({
      token,
      workerPort: 9464,
      workerHost: '0.0.0.0',
    });
    expect(AppConfig.fromEnv({ ...valid(), METRICS_PORT: '' }).metrics.workerPort).toBeUndefined();
    expect(() => AppConfig.fromEnv({ ...valid(), METRICS_TOKEN: 'short' })).toThrow('METRICS_TOKEN must be at least 24 characters');
    expect(() => AppConfig.fromEnv({ ...valid(), METRICS_TOKEN: `${token} x` })).toThrow('METRICS_TOKEN may hold printable ASCII only');
    expect(() => AppConfig.fromEnv({ ...valid(), METRICS_PORT: '70000' })).toThrow(ConfigError);
    // a port open beyond loopback must ask for the token
    expect(() => AppConfig.fromEnv({ ...valid(), METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' })).toThrow('set METRICS_TOKEN too');
    expect(AppConfig.fromEnv({ ...valid(), METRICS_PORT: '9464', METRICS_HOST: '127.0.0.2' }).metrics.workerHost).toBe('127.0.0.2');
  });

  it('reads the egress policy and the webhook delivery settings: https only and no allow-list unless set', () => {
    const defaults = AppConfig.fromEnv(valid());
    expect(defaults.egress).toEqual({ allowHttp: false, allowedCidrs: [] });
    expect(defaults.webhooks).toEqual({ timeoutMs: 10_000, maxAttempts: 8, retryBaseMs: 30_000, dispatchIntervalMs: 1_000, maxEndpoints: 20 });
    const set = AppConfig.fromEnv({
      ...valid(),
      EGRESS_ALLOW_HTTP: 'true',
      EGRESS_ALLOWED_CIDRS: ' 127.0.0.1/32, ::1/128,10.1.2.3 ',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_BASE_MS: '0',
      WEBHOOK_MAX_ENDPOINTS: '5',
    });
    expect(set.egress).toEqual({ allowHttp: true, allowedCidrs: ['127.0.0.1/32', '::1/128', '10.1.2.3'] });
    expect(set.webhooks).toMatchObject({ maxAttempts: 3, retryBaseMs: 0, maxEndpoints: 5 });
    expect(() => AppConfig.fromEnv({ ...valid(), WEBHOOK_MAX_ENDPOINTS: '0' })).toThrow(/WEBHOOK_MAX_ENDPOINTS/);
    expect(() => AppConfig.fromEnv({ ...valid(), EGRESS_ALLOWED_CIDRS: '127.0.0.1/32,localhost' })).toThrow(ConfigError);
    expect(() => AppConfig.fromEnv({ ...valid(), EGRESS_ALLOWED_CIDRS: '10.0.0.0/33' })).toThrow(/EGRESS_ALLOWED_CIDRS/);
    expect(() => AppConfig.fromEnv({ ...valid(), EGRESS_ALLOW_HTTP: 'yes' })).toThrow(/EGRESS_ALLOW_HTTP must be true or false/);
    expect(() => AppConfig.fromEnv({ ...valid(), WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow(ConfigError);
  });

  it('refuses a REDIS_URL that is not a redis:// or rediss:// URL with a host, without echoing it', () => {
    for (const url of ['garbage', 'localhost:6379', '127.0.0.1:6379', 'http://127.0.0.1:6379', 'redis://']) {
      expect(() => AppConfig.fromEnv({ ...valid(), REDIS_URL: url })).toThrow(
        'Invalid configuration: REDIS_URL must be a redis:// or rediss:// URL with a host, such as redis://127.0.0.1:6379',
      );
    }
    expect(() => AppConfig.fromEnv({ ...valid(), REDIS_URL: 'localhost:s3cret@x' })).not.toThrow(/s3cret/);
    expect(AppConfig.fromEnv({ ...valid(), REDIS_URL: 'rediss://:pw@cache.internal:6380/2' }).redisUrl).toBe('rediss://:pw@cache.internal:6380/2');
  });

  it('never reads plain provider keys from the environment', () => {
    const config = AppConfig.fromEnv({ ...valid(), OPENAI_API_KEY: 'sk-env', DEEPSEEK_API_KEY: 'sk-env2', GEMINI_API_KEY: 'g-env' });
    expect(config.platformKeys).toEqual({});
    expect(JSON.stringify(config)).not.toContain('sk-env');
  });

  it.each([
    ['a missing master key', { BYOK_MASTER_KEYS: undefined }, /^Invalid configuration: BYOK_MASTER_KEYS/],
    ['a short master key', { BYOK_MASTER_KEYS: `v1:${randomBytes(16).toString('base64')}` }, /"v1" must be 32 bytes of base64/],
    ['a master key that is not base64', { BYOK_MASTER_KEYS: 'v1:not*base64!' }, /"v1" must be 32 bytes of base64/],
    ['a master key without a version', { BYOK_MASTER_KEYS: key() }, /entries must look like v1:<base64>/],
    ['an active version that is not listed', { BYOK_ACTIVE_KEY_VERSION: 'v3' }, /BYOK_ACTIVE_KEY_VERSION "v3" is not one of/],
    ['a short fingerprint key', { BYOK_FINGERPRINT_KEY: randomBytes(8).toString('base64') }, /BYOK_FINGERPRINT_KEY must be at least 32 bytes/],
    ['a missing database url', { DATABASE_URL: undefined }, /DATABASE_URL is required/],
    ['a bad port', { PORT: 'eighty' }, /^Invalid configuration: PORT/],
    ['an empty main pool', { DATABASE_POOL_SIZE: '0' }, /^Invalid configuration: DATABASE_POOL_SIZE/],
    ['a zero failed-auth limit', { RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '0' }, /^Invalid configuration: RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS/],
    ['a graph timeout that is not a number', { GRAPH_STATEMENT_TIMEOUT_MS: 'soon' }, /^Invalid configuration: GRAPH_STATEMENT_TIMEOUT_MS/],
  ])('rejects %s with one clear line', (_, override, message) => {
    const attempt = () => AppConfig.fromEnv({ ...valid(), ...override });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

import { randomBytes } from 'node:crypto';
import { AppConfig } from '#libs/config';

export function randomMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/** A complete, valid environment for one test file: its own database, Redis prefix and master keys. */
export function testEnv(databaseUrl: string, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `byok-test:${randomBytes(6).toString('hex')}`,
    PORT: '0',
    ADMIN_API_TOKEN: `admin-${randomBytes(24).toString('base64url')}`,
    BYOK_MASTER_KEYS: `v1:${randomMasterKey()}`,
    BYOK_ACTIVE_KEY_VERSION: 'v1',
    BYOK_FINGERPRINT_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'debug',
    // tests send many bad tokens and writes from one address on purpose; rate-limits.e2e-spec sets small limits
    RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '1000000',
    RATE_LIMIT_AUTH_FAILURES_PER_TOKEN_PREFIX: '1000000',
    RATE_LIMIT_TENANT_WRITES: '1000000',
    ...overrides,
  };
}

export function testConfig(databaseUrl: string, overrides: Record<string, string | undefined> = {}): AppConfig {
  return AppConfig.fromEnv(testEnv(databaseUrl, overrides));
}

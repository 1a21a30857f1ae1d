import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ByokKeyStore, KeyRotationService, type RotationReport } from '#libs/byok';
import { MediumContext, randomMasterKey } from '#libs/testing';
// not exported by the lib: the test reaches the rotation's read through the application context
import { TenantSettingsRepository } from '../src/tenant-settings.repository.js';

/**
 * Each test has a database of its own, so every count below is exactly what that test stored:
 * the tests pass alone, in any order, and after one another.
 */
describe(KeyRotationService.name, () => {
  const fingerprintKey = randomBytes(32).toString('base64');
  let v1: string;
  let v2: string;
  /** The service before the rotation: v1 only, active. */
  let before: MediumContext;
  /** After the restart with v2 added and active, on the same database. */
  let after: MediumContext;

  beforeEach(async () => {
    v1 = randomMasterKey();
    v2 = randomMasterKey();
    before = await MediumContext.create({
      env: { BYOK_MASTER_KEYS: `v1:${v1}`, BYOK_ACTIVE_KEY_VERSION: 'v1', BYOK_FINGERPRINT_KEY: fingerprintKey },
    });
    after = await MediumContext.create({
      database: before.database,
      env: { BYOK_MASTER_KEYS: `v1:${v1},v2:${v2}`, BYOK_ACTIVE_KEY_VERSION: 'v2', BYOK_FINGERPRINT_KEY: fingerprintKey },
    });
    contexts.push(before, after);
  });
  /**
   * Every line this process logged, whichever capture it went to: services log through Nest's static
   * logger, one per process, which follows the context created last (see fileLogs).
   */
  const contexts: MediumContext[] = [];
  const everyLogLine = () => contexts.map((context) => context.logs.text).join('\n');

  afterEach(async () => {
    await after.close();
    await before.close();
  });

  /** Stores `count` keys under v1, one tenant each; answers tenant id -> key. */
  async function storeKeys(count: number, setting = 'OPENAI_API_KEY'): Promise<Map<string, string>> {
    const stored = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const tenant = await before.newTenant();
      const key = `sk-rotate-${randomBytes(10).toString('hex')}`;
      await before.get(ByokKeyStore).put(tenant.id, setting, key);
      stored.set(tenant.id, key);
    }
    return stored;
  }

  it('re-encrypts every row under the active version and keeps every value readable', async () => {
    const expected = new Map<string, string>();
    for (let i = 0; i < 7; i++) {
      const tenant = await before.newTenant();
      for (const setting of ['OPENAI_API_KEY', 'GEMINI_API_KEY']) {
        const key = `sk-rotate-${randomBytes(10).toString('hex')}`;
        await before.get(ByokKeyStore).put(tenant.id, setting, key);
        expected.set(`${tenant.id}|${setting}`, key);
      }
    }
    expect(await after.prisma.tenantSetting.count({ where: { isSecret: true } })).toBe(expected.size);

    const report = await after.get(KeyRotationService).rotateAll(3);

    expect(report).toEqual({ activeVersion: 'v2', rotated: expected.size, skipped: 0, failed: 0 });
    const versions = await after.prisma.tenantSetting.groupBy({ by: ['keyVersion'], _count: true });
    expect(versions).toEqual([{ keyVersion: 'v2', _count: expected.size }]);
    for (const [id, key] of expected) {
      const [tenantId, setting] = id.split('|');
      await expect(after.get(ByokKeyStore).get(tenantId, setting)).resolves.toMatchObject({ key });
    }
    // a second run finds nothing left to do
    await expect(after.get(KeyRotationService).rotateAll()).resolves.toEqual({ activeVersion: 'v2', rotated: 0, skipped: 0, failed: 0 });
  });

  it('never overwrites a key replaced between its read and its swap: it skips that row and keeps the newer key', async () => {
    const stored = await storeKeys(4);
    const [replacedTenant] = [...stored.keys()];
    const newer = `sk-newer-${randomBytes(10).toString('hex')}`;

    // the rotation reads a batch, then the tenant replaces its key (PUT, as the API does), then the
    // rotation decrypts and swaps what it read: the interleaving a live service can produce, forced
    const repository = after.get(TenantSettingsRepository);
    const read = repository.findSecretsToRotate.bind(repository);
    let replacedAfterRead = false;
    repository.findSecretsToRotate = async (...args) => {
      const rows = await read(...args);
      if (!replacedAfterRead && rows.some((row) => row.tenantId === replacedTenant)) {
        replacedAfterRead = true;
        await after.get(ByokKeyStore).put(replacedTenant, 'OPENAI_API_KEY', newer);
      }
      return rows;
    };
    let report: RotationReport;
    try {
      report = await after.get(KeyRotationService).rotateAll(1);
    } finally {
      repository.findSecretsToRotate = read;
    }

    expect(replacedAfterRead).toBe(true);
    expect(report).toEqual({ activeVersion: 'v2', rotated: stored.size - 1, skipped: 1, failed: 0 });
    await expect(after.get(ByokKeyStore).get(replacedTenant, 'OPENAI_API_KEY')).resolves.toMatchObject({ key: newer });
    for (const [tenantId, key] of stored) {
      if (tenantId === replacedTenant) continue;
      await expect(after.get(ByokKeyStore).get(tenantId, 'OPENAI_API_KEY')).resolves.toMatchObject({ key });
    }
    const rows = await after.prisma.tenantSetting.findMany({ where: { tenantId: { in: [...stored.keys()] } } });
    expect(rows.map((row) => row.keyVersion)).toEqual(rows.map(() => 'v2'));
  });

  it('never overwrites keys written while it runs, whatever the interleaving', async () => {
    const stored = await storeKeys(20);
    const latest = new Map<string, string>();
    const writes = (async () => {
      for (const tenantId of stored.keys()) {
        const key = `sk-new-${randomBytes(8).toString('hex')}`;
        await after.get(ByokKeyStore).put(tenantId, 'OPENAI_API_KEY', key);
        latest.set(tenantId, key);
      }
    })();
    const report = await after.get(KeyRotationService).rotateAll(2);
    await writes;

    // each row was either rotated or, replaced meanwhile, skipped (or never read as it was already v2)
    expect(report.failed).toBe(0);
    expect(report.rotated + report.skipped).toBeLessThanOrEqual(stored.size);
    for (const tenantId of stored.keys()) {
      await expect(after.get(ByokKeyStore).get(tenantId, 'OPENAI_API_KEY')).resolves.toMatchObject({ key: latest.get(tenantId) });
    }
  });

  it('counts a row it cannot decrypt as failed, goes on with the others, and logs no key it decrypted', async () => {
    const foreign = await MediumContext.create({
      database: before.database,
      env: { BYOK_MASTER_KEYS: `v1:${randomMasterKey()}`, BYOK_ACTIVE_KEY_VERSION: 'v1', BYOK_FINGERPRINT_KEY: fingerprintKey },
    });
    contexts.push(foreign);
    try {
      const unreadable = await foreign.newTenant();
      await foreign.get(ByokKeyStore).put(unreadable.id, 'DEEPSEEK_API_KEY', `sk-sealed-with-unknown-master-${randomBytes(8).toString('hex')}`);
      const stored = await storeKeys(2);

      const report = await after.get(KeyRotationService).rotateAll();

      expect(report).toEqual({ activeVersion: 'v2', rotated: 2, skipped: 0, failed: 1 });
      for (const [tenantId, key] of stored) {
        await expect(after.get(ByokKeyStore).get(tenantId, 'OPENAI_API_KEY')).resolves.toMatchObject({ key });
      }
      const logs = everyLogLine();
      // the rotation logged its progress and the failed row (by tenant, never by content) ...
      expect(logs).toContain('Rotated 2 keys so far (1 failed)');
      expect(logs).toContain(unreadable.id);
      // ... and none of the keys it held in plaintext to re-encrypt them, whole or in part
      for (const key of stored.values()) {
        expect(logs).not.toContain(key);
        expect(logs).not.toContain(key.slice('sk-rotate-'.length, -4));
      }
    } finally {
      await foreign.close();
    }
  });
});

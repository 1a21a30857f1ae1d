import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ByokKeyStore, KeyRotationService } from '#libs/byok';
import { MediumContext, randomMasterKey } from '#libs/testing';

describe(KeyRotationService.name, () => {
  const v1 = randomMasterKey();
  const v2 = randomMasterKey();
  const fingerprintKey = randomBytes(32).toString('base64');
  let before: MediumContext;
  let after: MediumContext;

  beforeAll(async () => {
    before = await MediumContext.create({
      env: { BYOK_MASTER_KEYS: `v1:${v1}`, BYOK_ACTIVE_KEY_VERSION: 'v1', BYOK_FINGERPRINT_KEY: fingerprintKey },
    });
    after = await MediumContext.create({
      database: before.database,
      env: { BYOK_MASTER_KEYS: `v1:${v1},v2:${v2}`, BYOK_ACTIVE_KEY_VERSION: 'v2', BYOK_FINGERPRINT_KEY: fingerprintKey },
    });
  });
  afterAll(async () => {
    await after.close();
    await before.close();
  });

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

    const report = await after.get(KeyRotationService).rotateAll(3);

    expect(report).toEqual({ activeVersion: 'v2', rotated: 14, skipped: 0, failed: 0 });
    const versions = await after.prisma.tenantSetting.groupBy({ by: ['keyVersion'], _count: true });
    expect(versions).toEqual([{ keyVersion: 'v2', _count: 14 }]);
    for (const [id, key] of expected) {
      const [tenantId, setting] = id.split('|');
      await expect(after.get(ByokKeyStore).get(tenantId, setting)).resolves.toMatchObject({ key });
    }
    // a second run finds nothing left to do
    await expect(after.get(KeyRotationService).rotateAll()).resolves.toMatchObject({ rotated: 0 });
  });

  it('never overwrites a key written while it runs', async () => {
    const tenants = await Promise.all(Array.from({ length: 20 }, () => before.newTenant()));
    for (const t of tenants) await before.get(ByokKeyStore).put(t.id, 'OPENAI_API_KEY', `sk-old-${randomBytes(8).toString('hex')}`);

    const latest = new Map<string, string>();
    const writes = (async () => {
      for (const t of tenants) {
        const key = `sk-new-${randomBytes(8).toString('hex')}`;
        await after.get(ByokKeyStore).put(t.id, 'OPENAI_API_KEY', key);
        latest.set(t.id, key);
      }
    })();
    const report = await after.get(KeyRotationService).rotateAll(2);
    await writes;

    expect(report.failed).toBe(0);
    for (const t of tenants) {
      await expect(after.get(ByokKeyStore).get(t.id, 'OPENAI_API_KEY')).resolves.toMatchObject({ key: latest.get(t.id) });
    }
  });

  it('counts a row it cannot decrypt as failed and goes on', async () => {
    const foreign = await MediumContext.create({
      database: before.database,
      env: { BYOK_MASTER_KEYS: `v1:${randomMasterKey()}`, BYOK_ACTIVE_KEY_VERSION: 'v1', BYOK_FINGERPRINT_KEY: fingerprintKey },
    });
    try {
      const tenant = await foreign.newTenant();
      await foreign.get(ByokKeyStore).put(tenant.id, 'DEEPSEEK_API_KEY', 'sk-sealed-with-unknown-master');
      const report = await after.get(KeyRotationService).rotateAll();
      expect(report.failed).toBe(1);
      expect(after.logs.text).not.toContain('sk-sealed-with-unknown-master');
    } finally {
      await foreign.close();
    }
  });
});

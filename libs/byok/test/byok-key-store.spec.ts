import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { MediumContext } from '#libs/testing';
import { ByokKeyStore, InvalidSettingValueError, KeyDecryptionError, UnknownSettingKeyError } from '#libs/byok';

describe(ByokKeyStore.name, () => {
  let ctx: MediumContext;
  let sut: ByokKeyStore;
  const canary = () => `sk-canary-${randomBytes(12).toString('hex')}-4207`;

  beforeAll(async () => {
    ctx = await MediumContext.create();
    sut = ctx.get(ByokKeyStore);
  });
  afterAll(() => ctx.close());

  it('stores a key encrypted and reads it back decrypted', async () => {
    const tenant = await ctx.newTenant();
    const key = canary();
    const masked = await sut.put(tenant.id, 'OPENAI_API_KEY', `  ${key}  `);

    expect(masked).toMatchObject({ key: 'OPENAI_API_KEY', isSecret: true, last4: '4207', validationStatus: 'unknown' });
    expect(masked.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(masked)).not.toContain(key);
    await expect(sut.get(tenant.id, 'OPENAI_API_KEY')).resolves.toMatchObject({ key, last4: '4207' });
  });

  it.each(['DEEPSEEK_API_KEY', 'ANTHROPIC_API_KEY'])('never writes the plaintext of %s into the tenant_settings row', async (setting) => {
    const tenant = await ctx.newTenant();
    const key = canary();
    const masked = await sut.put(tenant.id, setting, key);
    expect(masked).toMatchObject({ key: setting, isSecret: true });

    const rows = await ctx.prisma.$queryRaw<Record<string, unknown>[]>`SELECT * FROM tenant_settings WHERE tenant_id = ${tenant.id}::uuid`;
    expect(rows).toHaveLength(1);
    const dump = rows
      .map((row) =>
        Object.values(row)
          .map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v)))
          .join('|'),
      )
      .join();
    expect(dump).not.toContain(key);
    expect(dump).not.toContain(key.slice(0, 20));
    expect(rows[0].value).toBeNull();
  });

  it("keeps one tenant's key away from another", async () => {
    const tenant = await ctx.newTenant();
    const other = await ctx.newTenant();
    await sut.put(tenant.id, 'OPENAI_API_KEY', canary());
    await expect(sut.get(other.id, 'OPENAI_API_KEY')).resolves.toBeNull();
    await expect(sut.list(other.id)).resolves.toEqual([]);
  });

  it('refuses a row copied to another tenant or another setting', async () => {
    const tenant = await ctx.newTenant();
    const other = await ctx.newTenant();
    await sut.put(tenant.id, 'OPENAI_API_KEY', canary());
    await sut.put(other.id, 'OPENAI_API_KEY', canary());
    await sut.put(tenant.id, 'GEMINI_API_KEY', canary());

    // an attacker with database access copies tenant's envelope over other's row and over another setting
    await ctx.prisma.$executeRaw`
      UPDATE tenant_settings t SET ciphertext = s.ciphertext, iv = s.iv, auth_tag = s.auth_tag
      FROM tenant_settings s
      WHERE s.tenant_id = ${tenant.id}::uuid AND s.setting_key = 'OPENAI_API_KEY'
        AND ((t.tenant_id = ${other.id}::uuid AND t.setting_key = 'OPENAI_API_KEY')
          OR (t.tenant_id = ${tenant.id}::uuid AND t.setting_key = 'GEMINI_API_KEY'))`;
    await sut.invalidate(other.id, 'OPENAI_API_KEY');
    await sut.invalidate(tenant.id, 'GEMINI_API_KEY');

    await expect(sut.get(other.id, 'OPENAI_API_KEY')).rejects.toThrow(KeyDecryptionError);
    await expect(sut.get(tenant.id, 'GEMINI_API_KEY')).rejects.toThrow(KeyDecryptionError);
  });

  it('refuses a row with one flipped ciphertext byte', async () => {
    const tenant = await ctx.newTenant();
    await sut.put(tenant.id, 'OPENAI_API_KEY', canary());
    await ctx.prisma.$executeRaw`
      UPDATE tenant_settings SET ciphertext = set_byte(ciphertext, 3, get_byte(ciphertext, 3) # 1)
      WHERE tenant_id = ${tenant.id}::uuid`;
    await sut.invalidate(tenant.id, 'OPENAI_API_KEY');
    await expect(sut.get(tenant.id, 'OPENAI_API_KEY')).rejects.toThrow(KeyDecryptionError);
  });

  it('replacing a key resets its validation verdict; deleting it leaves nothing', async () => {
    const tenant = await ctx.newTenant();
    const first = await sut.put(tenant.id, 'OPENAI_API_KEY', canary());
    await sut.recordValidation(tenant.id, 'OPENAI_API_KEY', first.fingerprint!, 'valid');
    await expect(sut.getMasked(tenant.id, 'OPENAI_API_KEY')).resolves.toMatchObject({ validationStatus: 'valid' });

    const second = await sut.put(tenant.id, 'OPENAI_API_KEY', canary());
    expect(second.validationStatus).toBe('unknown');
    // a late verdict about the old key does not stick to the new one
    await expect(sut.recordValidation(tenant.id, 'OPENAI_API_KEY', first.fingerprint!, 'invalid')).resolves.toBe(false);

    await sut.delete(tenant.id, 'OPENAI_API_KEY');
    await expect(sut.get(tenant.id, 'OPENAI_API_KEY')).resolves.toBeNull();
  });

  it.each([
    ['OPENAI_API_KEY', 'OPENAI_MODEL', 'gpt-4.1-mini'],
    ['CUSTOM_OPENAI_API_KEY', 'CUSTOM_OPENAI_BASE_URL', 'https://llm.example.com/v1'],
    ['AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_DEPLOYMENT', 'extraction'],
    ['AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_API_VERSION', '2025-04-01-preview'],
  ])("sends %s's verdict back to unknown when %s changes or goes (it was reached with the old value)", async (keySetting, changed, value) => {
    const tenant = await ctx.newTenant();
    const key = await sut.put(tenant.id, keySetting, `${canary()}${randomBytes(16).toString('hex')}`);
    await sut.recordValidation(tenant.id, keySetting, key.fingerprint!, 'valid');
    await sut.put(tenant.id, changed, value);
    await expect(sut.getMasked(tenant.id, keySetting)).resolves.toMatchObject({ validationStatus: 'unknown', validatedAt: null });

    await sut.recordValidation(tenant.id, keySetting, key.fingerprint!, 'valid');
    await sut.delete(tenant.id, changed);
    await expect(sut.getMasked(tenant.id, keySetting)).resolves.toMatchObject({ validationStatus: 'unknown' });
    // another provider's key keeps its verdict
    const other = await sut.put(tenant.id, 'GEMINI_API_KEY', `AIza${randomBytes(20).toString('hex')}`);
    await sut.recordValidation(tenant.id, 'GEMINI_API_KEY', other.fingerprint!, 'valid');
    await sut.put(tenant.id, changed, value);
    await expect(sut.getMasked(tenant.id, 'GEMINI_API_KEY')).resolves.toMatchObject({ validationStatus: 'valid' });
  });

  it('stores non-secret settings in plain text and lists them masked', async () => {
    const tenant = await ctx.newTenant();
    await sut.put(tenant.id, 'GRAPHRAG_PROVIDER', 'gemini');
    await sut.put(tenant.id, 'GEMINI_API_KEY', canary());
    const items = await sut.list(tenant.id);
    expect(items.map((i) => [i.key, i.isSecret, i.value])).toEqual([
      ['GEMINI_API_KEY', true, undefined],
      ['GRAPHRAG_PROVIDER', false, 'gemini'],
    ]);
    await expect(sut.getPlain(tenant.id, 'GRAPHRAG_PROVIDER')).resolves.toBe('gemini');
  });

  it.each([
    ['an unknown setting key', 'NOT_A_SETTING', 'x'.repeat(20), UnknownSettingKeyError],
    ['an empty value', 'OPENAI_API_KEY', '   ', InvalidSettingValueError],
    ['a value over 512 characters', 'OPENAI_API_KEY', 'k'.repeat(513), InvalidSettingValueError],
    ['whitespace inside a key', 'OPENAI_API_KEY', 'sk-abc def-123456789', InvalidSettingValueError],
    ['a control character inside a key', 'OPENAI_API_KEY', 'sk-abc\u0000def-123456789', InvalidSettingValueError],
    ['a non-string value', 'OPENAI_API_KEY', 42, InvalidSettingValueError],
    ['an unknown provider', 'GRAPHRAG_PROVIDER', 'llama', InvalidSettingValueError],
    ['a model id with a quote', 'OPENAI_MODEL', 'gpt-4o"', InvalidSettingValueError],
    ['a model id starting with a dash', 'GEMINI_MODEL', '-gemini', InvalidSettingValueError],
    ['a model id over 128 characters', 'DEEPSEEK_MODEL', 'm'.repeat(129), InvalidSettingValueError],
    ['a model id with a query', 'ANTHROPIC_MODEL', 'claude?x=1', InvalidSettingValueError],
    ['a model id climbing a path', 'GEMINI_MODEL', 'gemini/../../files', InvalidSettingValueError],
  ])('rejects %s and writes nothing', async (_, settingKey, value, error) => {
    const tenant = await ctx.newTenant();
    await expect(sut.put(tenant.id, settingKey, value)).rejects.toThrow(error);
    await expect(ctx.prisma.tenantSetting.count({ where: { tenantId: tenant.id } })).resolves.toBe(0);
  });

  it.each([
    ['OPENAI_MODEL', 'gpt-4.1-mini'],
    ['OPENAI_MODEL', 'ft:gpt-4o-mini:acme:extract:9xYz'],
    ['GEMINI_MODEL', 'gemini-2.5-flash-001'],
    ['DEEPSEEK_MODEL', 'deepseek-reasoner'],
    ['ANTHROPIC_MODEL', 'claude-sonnet-4@20250514'],
    ['ANTHROPIC_MODEL', 'c'.repeat(128)],
  ])('stores %s = %s as a plain setting', async (settingKey, value) => {
    const tenant = await ctx.newTenant();
    await expect(sut.put(tenant.id, settingKey, ` ${value} `)).resolves.toMatchObject({ key: settingKey, isSecret: false, value });
    await expect(sut.getPlain(tenant.id, settingKey)).resolves.toBe(value);
  });

  it('accepts a value of exactly 512 characters', async () => {
    const tenant = await ctx.newTenant();
    await expect(sut.put(tenant.id, 'OPENAI_API_KEY', 'k'.repeat(512))).resolves.toMatchObject({ last4: 'kkkk' });
  });
});

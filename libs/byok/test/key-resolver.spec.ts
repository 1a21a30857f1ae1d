import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ByokKeyStore, KeyFingerprinter, KeyResolver, MissingApiKeyError, PlatformKeyMissingError } from '#libs/byok';
import { AiKeyMode } from '#libs/database';
import { MediumContext } from '#libs/testing';

const GLOBAL_KEYS = {
  OPENAI_API_KEY: 'sk-global-openai-env-6100',
  DEEPSEEK_API_KEY: 'sk-global-deepseek-env-6100',
  GEMINI_API_KEY: 'global-gemini-env-key-6100',
  ANTHROPIC_API_KEY: 'sk-ant-global-anthropic-env-6100',
  ANTHROPIC_AUTH_TOKEN: 'sk-ant-global-anthropic-token-6100',
  PLATFORM_OPENAI_API_KEY: 'sk-platform-openai-key-9999',
  PLATFORM_GEMINI_API_KEY: 'platform-gemini-key-99999999',
  PLATFORM_DEEPSEEK_API_KEY: 'sk-platform-deepseek-key-9999',
  PLATFORM_ANTHROPIC_API_KEY: 'sk-ant-platform-anthropic-key-9998',
};

describe(KeyResolver.name, () => {
  let ctx: MediumContext;
  let sut: KeyResolver;
  let store: ByokKeyStore;
  const saved = { ...process.env };

  beforeAll(async () => {
    // the environment holds every kind of global key; none may ever reach a byok tenant
    Object.assign(process.env, GLOBAL_KEYS);
    ctx = await MediumContext.create({ env: GLOBAL_KEYS });
    sut = ctx.get(KeyResolver);
    store = ctx.get(ByokKeyStore);
  });
  afterEach(() => ctx.logs.clear());
  afterAll(async () => {
    process.env = saved;
    await ctx.close();
  });

  it("uses the byok tenant's own key, never the platform key", async () => {
    const tenant = await ctx.newTenant({ subdomain: `brennan-${randomBytes(3).toString('hex')}` });
    await store.put(tenant.id, 'DEEPSEEK_API_KEY', 'sk-brennan-deepseek-4f474207');

    const resolved = await sut.resolve({ tenantId: tenant.id, provider: 'deepseek' });

    expect(resolved).toMatchObject({ key: 'sk-brennan-deepseek-4f474207', source: 'tenant', last4: '4207', provider: 'deepseek' });
    expect(resolved.fingerprint).toBe(ctx.get(KeyFingerprinter).fingerprint('sk-brennan-deepseek-4f474207'));
    expect(ctx.logs.messages()).toContain("Using tenant's DEEPSEEK_API_KEY (...4207)");
    expect(ctx.logs.text).not.toContain('sk-brennan-deepseek');
  });

  it("uses a byok tenant's own Anthropic key, sealed like the others", async () => {
    const tenant = await ctx.newTenant({ aiKeyMode: AiKeyMode.byok });
    await store.put(tenant.id, 'ANTHROPIC_API_KEY', 'sk-ant-api03-brennan-anthropic-4f474207');

    const resolved = await sut.resolve({ tenantId: tenant.id, provider: 'anthropic' });

    expect(resolved).toMatchObject({ key: 'sk-ant-api03-brennan-anthropic-4f474207', source: 'tenant', last4: '4207', provider: 'anthropic' });
    expect(ctx.logs.messages()).toContain("Using tenant's ANTHROPIC_API_KEY (...4207)");
  });

  it('uses PLATFORM_ANTHROPIC_API_KEY for a managed tenant, never ANTHROPIC_API_KEY', async () => {
    const tenant = await ctx.newTenant({ aiKeyMode: AiKeyMode.managed });
    const resolved = await sut.resolve({ tenantId: tenant.id, provider: 'anthropic' });
    expect(resolved).toMatchObject({ key: GLOBAL_KEYS.PLATFORM_ANTHROPIC_API_KEY, source: 'platform', last4: '9998' });
  });

  it.each(['openai', 'gemini', 'deepseek', 'anthropic'] as const)(
    'finds nothing for a byok tenant without a %s key, whatever the environment holds',
    async (provider) => {
      const tenant = await ctx.newTenant({ aiKeyMode: AiKeyMode.byok });
      const settingKey = `${provider.toUpperCase()}_API_KEY`;

      await expect(store.get(tenant.id, settingKey)).resolves.toBeNull();
      const error = await sut.resolve({ tenantId: tenant.id, provider }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MissingApiKeyError);
      expect((error as MissingApiKeyError).message).toBe(`Tenant ${tenant.subdomain} has no ${settingKey}. Add the key on the Provider keys page.`);
      for (const global of Object.values(GLOBAL_KEYS)) expect(ctx.logs.text).not.toContain(global);
    },
  );

  it('uses the platform key for a managed tenant', async () => {
    const tenant = await ctx.newTenant({ aiKeyMode: AiKeyMode.managed });
    const resolved = await sut.resolve({ tenantId: tenant.id, provider: 'openai' });
    expect(resolved).toMatchObject({ key: GLOBAL_KEYS.PLATFORM_OPENAI_API_KEY, source: 'platform', last4: '9999' });
  });

  it("ignores a managed tenant's stored key: the mode decides", async () => {
    const tenant = await ctx.newTenant({ aiKeyMode: AiKeyMode.managed });
    await store.put(tenant.id, 'OPENAI_API_KEY', 'sk-managed-tenant-own-1111');
    await expect(sut.resolve({ tenantId: tenant.id, provider: 'openai' })).resolves.toMatchObject({ source: 'platform' });
  });

  it('prefers a request-scoped key over everything', async () => {
    const tenant = await ctx.newTenant();
    await store.put(tenant.id, 'OPENAI_API_KEY', 'sk-stored-tenant-key-0000');
    const resolved = await sut.resolve({ tenantId: tenant.id, provider: 'openai', requestKey: 'sk-from-request-header-5555' });
    expect(resolved).toMatchObject({ key: 'sk-from-request-header-5555', source: 'request', last4: '5555' });
  });

  it('fails a managed tenant with PLATFORM_KEY_MISSING when no platform key is configured', async () => {
    const bare = await MediumContext.create({ database: ctx.database });
    try {
      const tenant = await bare.newTenant({ aiKeyMode: AiKeyMode.managed });
      await expect(bare.get(KeyResolver).resolve({ tenantId: tenant.id, provider: 'gemini' })).rejects.toThrow(PlatformKeyMissingError);
    } finally {
      await bare.close();
    }
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { MaskedSetting } from '#libs/byok';
import { KeyValidator } from '#libs/llm';
import { fingerprintForSimulator, ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { validationView } from '../src/settings/settings.dto.js';
import { type ApiErrorBody, ApiHarness, type ListOf } from './api-harness.js';
import { keyEchoes } from './key-echo.js';

type ValidationView = z.output<typeof validationView>;

describe('POST /v1/tenants/:tenantId/settings/:key/validate (e2e)', () => {
  const goodOpenAi = `sk-good-${randomBytes(16).toString('hex')}-4207`;
  const goodGemini = `AIza-good-${randomBytes(16).toString('hex')}-gem1`;
  const goodAnthropic = `sk-ant-api03-good-${randomBytes(24).toString('hex')}-ant1`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [goodOpenAi], gemini: [goodGemini], anthropic: [goodAnthropic] } });
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start(simulatorEnv(await simulator.start()));
  });
  beforeEach(() => simulator.clear());
  afterAll(async () => {
    await api.close();
    await simulator.stop();
  });

  async function tenantWith(settingKey: string, value: string) {
    const tenant = await api.newTenant();
    expect((await api.request('PUT', `/v1/tenants/${tenant.id}/settings/${settingKey}`, { body: { value } })).status).toBe(200);
    return tenant;
  }

  /** Validates a stored key; `T` is the answer expected, `ApiErrorBody` for a refusal. */
  const validate = <T = ValidationView>(tenantId: string, key: string) => api.request<T>('POST', `/v1/tenants/${tenantId}/settings/${key}/validate`);
  const statusOf = async (tenantId: string, key: string) =>
    (await api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenantId}/settings`)).body.items.find((i: { key: string }) => i.key === key);

  it('marks a working OpenAI key valid with one live call carrying that key', async () => {
    const tenant = await tenantWith('OPENAI_API_KEY', goodOpenAi);

    const res = await validate(tenant.id, 'OPENAI_API_KEY');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'valid', provider: 'openai', checkedAt: expect.any(String) });
    expect(simulator.requestsFor('openai').map((r) => [r.method, r.path, r.keyFingerprint])).toEqual([
      ['GET', '/openai/v1/models', fingerprintForSimulator(goodOpenAi)],
    ]);
    expect(await statusOf(tenant.id, 'OPENAI_API_KEY')).toMatchObject({ validationStatus: 'valid', validatedAt: expect.any(String) });
  });

  it('reuses a fresh verdict without calling the provider again', async () => {
    const fresh = `sk-fresh-${randomBytes(16).toString('hex')}-5150`;
    simulator.setValidKeys('openai', [goodOpenAi, fresh]);
    const tenant = await tenantWith('OPENAI_API_KEY', fresh);
    await validate(tenant.id, 'OPENAI_API_KEY');
    const again = await validate(tenant.id, 'OPENAI_API_KEY');
    expect(again.body.status).toBe('valid');
    expect(simulator.requestsFor('openai')).toHaveLength(1);
  });

  it('marks a refused key invalid', async () => {
    const wrong = `sk-wrong-${randomBytes(16).toString('hex')}-0001`;
    const tenant = await tenantWith('OPENAI_API_KEY', wrong);

    const res = await validate(tenant.id, 'OPENAI_API_KEY');

    expect(res.body).toMatchObject({ status: 'invalid', provider: 'openai' });
    expect(await statusOf(tenant.id, 'OPENAI_API_KEY')).toMatchObject({ validationStatus: 'invalid' });
    expect(simulator.keysSeen('openai')).toEqual([fingerprintForSimulator(wrong)]);
    expect(keyEchoes('response and logs', [res.text, ...api.logs.lines], [wrong])).toEqual([]);
  });

  it('marks a placeholder invalid without any network call', async () => {
    const tenant = await tenantWith('OPENAI_API_KEY', 'mock-openai-key-for-tests');
    const res = await validate(tenant.id, 'OPENAI_API_KEY');
    expect(res.body).toMatchObject({ status: 'invalid', provider: 'openai' });
    expect(simulator.requests).toEqual([]);
  });

  it('validates a Gemini key through the Gemini model list, with the key in a header', async () => {
    const tenant = await tenantWith('GEMINI_API_KEY', goodGemini);
    const res = await validate(tenant.id, 'GEMINI_API_KEY');
    expect(res.body).toMatchObject({ status: 'valid', provider: 'gemini' });
    expect(simulator.requestsFor('gemini').map((r) => [r.path, r.keyLocation, r.keyFingerprint])).toEqual([
      ['/gemini/v1beta/models', 'header', fingerprintForSimulator(goodGemini)],
    ]);
  });

  it('validates an Anthropic key through GET /v1/models/{its model}, and marks a refused one invalid', async () => {
    const tenant = await tenantWith('ANTHROPIC_API_KEY', goodAnthropic);
    const res = await validate(tenant.id, 'ANTHROPIC_API_KEY');
    expect(res.body).toMatchObject({ status: 'valid', provider: 'anthropic' });
    expect(simulator.requestsFor('anthropic').map((r) => [r.method, r.path, r.keyLocation, r.keyFingerprint])).toEqual([
      ['GET', '/anthropic/v1/models/claude-haiku-4-5', 'header', fingerprintForSimulator(goodAnthropic)],
    ]);

    const revoked = `sk-ant-api03-revoked-${randomBytes(24).toString('hex')}-9999`;
    const other = await tenantWith('ANTHROPIC_API_KEY', revoked);
    const refused = await validate(other.id, 'ANTHROPIC_API_KEY');
    expect(refused.body).toMatchObject({ status: 'invalid', provider: 'anthropic' });
    expect(simulator.requestsFor('anthropic')).toHaveLength(2);
    await expect(statusOf(other.id, 'ANTHROPIC_API_KEY')).resolves.toMatchObject({ validationStatus: 'invalid' });
    expect(keyEchoes('answer', [JSON.stringify(refused.body)], [revoked])).toEqual([]);
  });

  it.each(['sk-ant-xxx', 'your-key-here'])('marks the Anthropic placeholder %s invalid without any network call', async (placeholder) => {
    const tenant = await tenantWith('ANTHROPIC_API_KEY', placeholder);
    const res = await validate(tenant.id, 'ANTHROPIC_API_KEY');
    expect(res.body).toMatchObject({ status: 'invalid', provider: 'anthropic' });
    expect(simulator.requests).toEqual([]);
  });

  it('answers 429 RATE_LIMITED and records no verdict when the provider rate-limits the check', async () => {
    const key = `sk-limited-${randomBytes(16).toString('hex')}-7777`;
    simulator.setValidKeys('openai', [goodOpenAi, key]);
    const tenant = await tenantWith('OPENAI_API_KEY', key);
    simulator.failNext('openai', { status: 429, retryAfterSeconds: 3 });

    const res = await validate<ApiErrorBody>(tenant.id, 'OPENAI_API_KEY');

    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
    expect(res.body.error.message).toContain('openai');
    expect(keyEchoes('response', [res.text], [key])).toEqual([]);
    expect(await statusOf(tenant.id, 'OPENAI_API_KEY')).toMatchObject({ validationStatus: 'unknown' });
  });

  it('answers 404 for a key that is not set and 400 for a setting that is not a key', async () => {
    const tenant = await api.newTenant();
    const missing = await validate<ApiErrorBody>(tenant.id, 'DEEPSEEK_API_KEY');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('SETTING_NOT_FOUND');
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/GRAPHRAG_PROVIDER`, { body: { value: 'openai' } });
    expect((await validate(tenant.id, 'GRAPHRAG_PROVIDER')).status).toBe(400);
  });

  it("answers 404 for another tenant's key, calls no provider and leaves the key and its verdict as they were", async () => {
    const theirKey = `sk-theirs-${randomBytes(16).toString('hex')}-7e1r`;
    simulator.setValidKeys('openai', [goodOpenAi, theirKey]);
    const theirs = await tenantWith('OPENAI_API_KEY', theirKey);
    expect((await validate(theirs.id, 'OPENAI_API_KEY')).body).toMatchObject({ status: 'valid' });
    const before = await statusOf(theirs.id, 'OPENAI_API_KEY');
    expect(before).toMatchObject({ last4: '7e1r', validationStatus: 'valid', validatedAt: expect.any(String), fingerprint: expect.any(String) });
    // from now on the provider refuses the key and no verdict is cached: a check that went through
    // would call the provider and turn the verdict to invalid
    simulator.setValidKeys('openai', [goodOpenAi]);
    api.app.get(KeyValidator).forget('openai', before!.fingerprint!);
    simulator.clear();
    const mine = await api.newTenant();
    const token = await api.newTenantToken(mine.id);

    const res = await api.request<ApiErrorBody>('POST', `/v1/tenants/${theirs.id}/settings/OPENAI_API_KEY/validate`, { token });

    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('TENANT_NOT_FOUND');
    expect(simulator.requests).toEqual([]);
    // the same key, the same verdict from the same moment
    expect(await statusOf(theirs.id, 'OPENAI_API_KEY')).toEqual(before);
    expect(keyEchoes('response', [res.text], [theirKey])).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { RedisService } from '#libs/redis';
import { PrivateRedis } from '#libs/testing';
import { type ApiErrorBody, ApiHarness, type HttpResult, type Json } from './api-harness.js';

const PER_ADDRESS = 5;
const PER_PREFIX = 3;
const WRITES = 4;

/** A tenant token that belongs to nobody, with a prefix of its own unless one is given. */
const guess = (prefix = `tt_${randomBytes(6).toString('base64url')}`) => `${prefix}${randomBytes(30).toString('base64url')}`;
let addressCount = 0;
/** A client address of its own (TEST-NET-3, RFC 5737), named by X-Forwarded-For: TRUST_PROXY trusts loopback. */
const newAddress = () => `203.0.113.${++addressCount}`;

function expectTooManyAuthFailures(res: HttpResult<Json<ApiErrorBody>>): void {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe('TOO_MANY_AUTH_FAILURES');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

/**
 * Rate limits shared by every API process through Redis: failed authentications per client address
 * and per token prefix (429 TOO_MANY_AUTH_FAILURES with Retry-After, no token lookup past the limit),
 * and writes per tenant (429 TOO_MANY_WRITES).
 */
describe('Rate limits (e2e)', () => {
  let api: ApiHarness;
  let other: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start({
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_WINDOW_S: '60',
      RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: String(PER_ADDRESS),
      RATE_LIMIT_AUTH_FAILURES_PER_TOKEN_PREFIX: String(PER_PREFIX),
      RATE_LIMIT_TENANT_WRITES: String(WRITES),
    });
    // a second API process of the same deployment: same database, Redis prefix and tokens
    other = await ApiHarness.start({ ...api.env }, { databaseUrl: api.database.url });
  });
  afterAll(async () => {
    await other.close();
    await api.close();
  });

  const me = (harness: ApiHarness, token: string, address: string) =>
    harness.request<ApiErrorBody>('GET', '/v1/me', { token, headers: { 'x-forwarded-for': address } });

  it('refuses an address 429 with Retry-After after its failed authentications, before any lookup; a token already proven still passes', async () => {
    const tenant = await api.newTenant();
    const token = await api.newTenantToken(tenant.id);
    // minted through the other process: this one has never looked it up
    const unseen = (await other.request<{ token: string }>('POST', `/v1/tenants/${tenant.id}/tokens`, { body: {} })).body.token;
    const address = newAddress();
    expect((await me(api, token, address)).status).toBe(200);

    for (let i = 0; i < PER_ADDRESS; i++) expect((await me(api, guess(), address)).status).toBe(401);
    expectTooManyAuthFailures(await me(api, guess(), address));
    // a valid token this process cannot vouch for without the lookup the limit forbids: refused too
    expectTooManyAuthFailures(await me(api, unseen, address));

    expect((await me(api, token, address)).status).toBe(200);
    expect((await me(api, api.adminToken, address)).status).toBe(200);
    // other addresses are not held back, and the unseen token is valid
    expect((await me(api, unseen, newAddress())).status).toBe(200);
    expect((await me(api, guess(), newAddress())).status).toBe(401);
  });

  it('counts failures in every API process against one allowance', async () => {
    const address = newAddress();
    for (let i = 0; i < PER_ADDRESS; i++) expect((await me(i % 2 ? other : api, guess(), address)).status).toBe(401);
    expectTooManyAuthFailures(await me(api, guess(), address));
    expectTooManyAuthFailures(await me(other, guess(), address));
  });

  it('limits guesses with one token prefix across addresses, admin token guesses included', async () => {
    const prefix = `tt_${randomBytes(6).toString('base64url')}`;
    for (let i = 0; i < PER_PREFIX; i++) expect((await me(i % 2 ? other : api, guess(prefix), newAddress())).status).toBe(401);
    expectTooManyAuthFailures(await me(api, guess(prefix), newAddress()));
    expect((await me(api, guess(), newAddress())).status).toBe(401);

    const adminGuess = () => `${api.adminToken.slice(0, 9)}${randomBytes(24).toString('base64url')}`;
    for (let i = 0; i < PER_PREFIX; i++) expect((await me(api, adminGuess(), newAddress())).status).toBe(401);
    expectTooManyAuthFailures(await me(other, adminGuess(), newAddress()));
    expect((await me(api, api.adminToken, newAddress())).status).toBe(200);
  });

  it('limits writes per tenant, in every process, and leaves other tenants and reads alone', async () => {
    const [a, b] = [await api.newTenant(), await api.newTenant()];
    const [tokenA, tokenB] = [await api.newTenantToken(a.id), await api.newTenantToken(b.id)];
    const create = (harness: ApiHarness, tenantId: string, token: string) =>
      harness.request<ApiErrorBody>('POST', `/v1/tenants/${tenantId}/workspaces`, {
        token,
        body: { name: 'Inbox' },
        headers: { 'x-forwarded-for': newAddress() },
      });

    for (let i = 0; i < WRITES; i++) expect((await create(i % 2 ? other : api, a.id, tokenA)).status).toBe(201);
    const refused = await create(other, a.id, tokenA);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('TOO_MANY_WRITES');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const workspaces = await api.request<{ items: unknown[] }>('GET', `/v1/tenants/${a.id}/workspaces`, { token: tokenA });
    expect(workspaces.status).toBe(200);
    expect(workspaces.body.items).toHaveLength(WRITES);
    expect((await create(api, b.id, tokenB)).status).toBe(201);
    // the platform admin is not a tenant: its writes are not counted against one
    expect((await create(api, a.id, api.adminToken)).status).toBe(201);
  });

  it('keeps no token, nor any part of one, in Redis', async () => {
    const secret = guess();
    expect((await me(api, secret, newAddress())).status).toBe(401);
    const keys = await api.app.get(RedisService).client.keys(`${api.config.redisPrefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).not.toContain(secret.slice(0, 9));
  });

  describe('while Redis is down', () => {
    let redis: PrivateRedis;
    let alone: ApiHarness;

    beforeAll(async () => {
      redis = await PrivateRedis.start();
      alone = await ApiHarness.start({
        REDIS_URL: redis.url,
        TRUST_PROXY: 'loopback',
        RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: String(PER_ADDRESS),
        RATE_LIMIT_TENANT_WRITES: String(WRITES),
      });
    });
    afterAll(async () => {
      if (!redis.running) await redis.restart();
      // closed while reconnecting, a connection would keep retrying after the test
      const client = alone.app.get(RedisService).client;
      while (client.status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 50));
      await alone.close();
      await redis.destroy();
    });

    it('fails open: guesses are checked (401), tenants write, and a warning says the limits are off', async () => {
      const tenant = await alone.newTenant();
      const token = await alone.newTenantToken(tenant.id);
      await redis.stop();
      const address = newAddress();
      for (let i = 0; i < PER_ADDRESS + 2; i++) expect((await me(alone, guess(), address)).status).toBe(401);
      for (let i = 0; i < WRITES + 1; i++) {
        const res = await alone.request('POST', `/v1/tenants/${tenant.id}/workspaces`, { token, body: { name: 'Inbox' } });
        expect(res.status).toBe(201);
      }
      expect(alone.logs.messages().some((m) => m.startsWith('Rate limit not applied, Redis is unavailable'))).toBe(true);
    });
  });
});

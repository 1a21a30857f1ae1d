import { describe, expect, it } from '@jest/globals';
import { freePort } from '#libs/testing';
import { StartError } from '../../scripts/local-services/postgres.js';
import { planRedis, privatePortFor } from '../../scripts/local-services/redis.js';

describe("npm start's Redis plan", () => {
  it('uses a Redis that answers', async () => {
    const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    expect(await planRedis(url)).toEqual({ kind: 'answers', url });
  });

  it("starts a private redis-server on a silent local URL's own port when redis-server is on the PATH", async () => {
    const port = await freePort();
    expect(await planRedis(`redis://127.0.0.1:${port}`)).toEqual({ kind: 'private', port });
  });

  it('names what to install when redis-server is not on the PATH', async () => {
    const port = await freePort();
    const plan = await planRedis(`redis://127.0.0.1:${port}`, '/nonexistent');
    expect(plan).toEqual({ kind: 'missing', message: expect.stringContaining('redis-server is not installed: install Redis') as unknown });
  });

  it('never starts one for a remote or password-protected Redis, and never shows the password', async () => {
    const port = await freePort();
    const plan = await planRedis(`redis://:s3cret@127.0.0.1:${port}`);
    expect(plan).toEqual({
      kind: 'missing',
      message: `Redis does not answer at redis://***@127.0.0.1:${port}: start it, or set REDIS_URL to one that runs.`,
    });
    // a password with an @ in it: the mask used to stop at the first one and show the rest
    const plan2 = await planRedis(`redis://:p@ssw0rd@127.0.0.1:${port}/2`);
    expect(plan2).toEqual({
      kind: 'missing',
      message: `Redis does not answer at redis://***@127.0.0.1:${port}/2: start it, or set REDIS_URL to one that runs.`,
    });
    expect(privatePortFor('redis://cache.internal:6379')).toBeUndefined();
    expect(privatePortFor('rediss://127.0.0.1:6380')).toBeUndefined();
    expect(privatePortFor('redis://localhost')).toBe(6379);
  });

  it('refuses a REDIS_URL that is not a redis:// URL in one line, never PINGing the default port instead', async () => {
    // "localhost:6391" parses as the scheme "localhost:": it used to PING 6379 and the API then retried 6391 forever
    for (const url of ['garbage', 'localhost:6391', 'http://127.0.0.1:6379', 'redis://']) {
      await expect(planRedis(url)).rejects.toThrow(
        new StartError('REDIS_URL must be a redis:// or rediss:// URL with a host, such as redis://127.0.0.1:6379'),
      );
    }
  });
});

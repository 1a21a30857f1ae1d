import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { freePort } from '#libs/testing';
import { DEFAULT_TEST_DATABASE_URL, DEFAULT_TEST_REDIS_URL, ensureTestServices, ServicesUnavailableError } from './global-setup.js';

/** The jest globalSetup's logic (`npm test` on a fresh machine), against URLs where nothing listens. */
async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0].one;
  } finally {
    await client.end();
  }
}

/** Redis's answer to PING, over a bare socket (an ioredis client left mid-connect would hold the test open). */
function ping(url: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => (socket.destroy(), resolve(chunk.toString().trim())));
    socket.once('error', reject);
  });
}

describe('test services (jest globalSetup)', () => {
  let workDir: string;
  let deadDatabaseUrl: string;
  let deadRedisUrl: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'test-services-'));
    // run as root, initdb runs as the `postgres` user, which must reach the data folder through this one
    chmodSync(workDir, 0o755);
    deadDatabaseUrl = `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`;
    deadRedisUrl = `redis://127.0.0.1:${await freePort()}`;
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('uses the services that answer and starts nothing', async () => {
    const services = await ensureTestServices({
      databaseUrl: process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL,
      redisUrl: process.env.TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL,
      workDir: join(workDir, 'unused'),
    });
    expect(services.env).toEqual({});
    expect(services.started).toEqual([]);
    await services.stop();
  });

  it('starts an embedded Postgres and a private Redis when nothing answers, and stops them', async () => {
    const services = await ensureTestServices({ databaseUrl: deadDatabaseUrl, redisUrl: deadRedisUrl, workDir: join(workDir, 'run') });
    try {
      expect(Object.keys(services.env).sort()).toEqual(['TEST_DATABASE_URL', 'TEST_REDIS_URL']);
      expect(services.started).toHaveLength(2);
      expect(await selectOne(services.env.TEST_DATABASE_URL)).toBe(1);
      expect(await ping(services.env.TEST_REDIS_URL)).toBe('+PONG');
    } finally {
      await services.stop();
    }
    await expect(selectOne(services.env.TEST_DATABASE_URL)).rejects.toThrow(/ECONNREFUSED/);
    await expect(ping(services.env.TEST_REDIS_URL)).rejects.toThrow(/ECONNREFUSED/);
  }, 60_000);

  it('names what to start when Redis is silent and redis-server is not installed, starting nothing', async () => {
    const attempt = ensureTestServices({
      databaseUrl: deadDatabaseUrl,
      redisUrl: deadRedisUrl,
      workDir: join(workDir, 'none'),
      path: '/nonexistent',
    });
    await expect(attempt).rejects.toThrow(ServicesUnavailableError);
    await expect(attempt).rejects.toThrow(`Redis does not answer at ${deadRedisUrl} and redis-server is not installed`);
  });

  it('never shows a Redis password in that line, even one with an @ in it', async () => {
    const withPassword = deadRedisUrl.replace('redis://', 'redis://:p@ssw0rd@');
    const attempt = ensureTestServices({
      databaseUrl: deadDatabaseUrl,
      redisUrl: withPassword,
      workDir: join(workDir, 'none'),
      path: '/nonexistent',
    });
    await expect(attempt).rejects.toThrow(`Redis does not answer at ${deadRedisUrl.replace('redis://', 'redis://***@')} and redis-server`);
  });
});

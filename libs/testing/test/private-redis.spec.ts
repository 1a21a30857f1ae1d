import { Redis } from 'ioredis';
import { PrivateRedis } from '#libs/testing';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('PrivateRedis', () => {
  let redis: PrivateRedis;
  let client: Redis;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  });

  afterAll(async () => {
    client?.disconnect();
    await redis?.destroy();
  });

  it('serves its own port, not the shared Redis', async () => {
    expect(redis.port).not.toBe(6379);
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
  });

  it('refuses commands once stopped and comes back empty on the same port after restart, without persistence', async () => {
    await client.set('k', 'v');
    await redis.stop();
    expect(redis.running).toBe(false);
    await expect(client.get('k')).rejects.toThrow();
    await redis.restart();
    // the same client reconnects by itself
    expect(await client.get('k')).toBeNull();
  });

  it('stops with SHUTDOWN NOSAVE as well as SIGKILL', async () => {
    await redis.stop('shutdown');
    expect(redis.running).toBe(false);
    await redis.restart();
    expect(await client.ping()).toBe('PONG');
  });

  it('keeps its data across a restart with appendOnly', async () => {
    const durable = await PrivateRedis.start({ appendOnly: true });
    const other = new Redis(durable.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    try {
      await other.set('kept', 'yes');
      await durable.restart();
      expect(await other.get('kept')).toBe('yes');
    } finally {
      other.disconnect();
      await durable.destroy();
    }
  });

  it('leaves no process behind once destroyed', async () => {
    const scratch = await PrivateRedis.start();
    const probe = new Redis(scratch.url);
    const pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
    probe.disconnect();
    expect(processAlive(pid)).toBe(true);
    await scratch.destroy();
    expect(processAlive(pid)).toBe(false);
  });
});

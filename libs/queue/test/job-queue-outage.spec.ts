import { Redis } from 'ioredis';
import { ErrorCode } from '#libs/common';
import { isQueueUnavailable, JobName, JobQueue, QueueUnavailableError, withinQueueDeadline } from '#libs/queue';
import { MediumContext, PrivateRedis } from '#libs/testing';

describe('JobQueue while Redis is away', () => {
  let redis: PrivateRedis;
  let context: MediumContext;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    context = await MediumContext.create({ env: { REDIS_URL: redis.url } });
  }, 60_000);

  afterAll(async () => {
    if (redis && !redis.running) await redis.restart();
    // closed while still reconnecting, a queue's client would linger 2 s on its half-open socket
    const deadline = Date.now() + 10_000;
    while (context && Date.now() < deadline) {
      const queue = context.get(JobQueue);
      const back = await Promise.all([queue.entryOf(JobName.AiExtract, 'none'), queue.entryOf(JobName.Backfill, 'none')]).then(
        () => true,
        () => false,
      );
      if (back) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await context?.close();
    await redis?.destroy();
  });

  it('fails an enqueue with QueueUnavailableError while Redis is down, and enqueues again once it is back', async () => {
    const queue = context.get(JobQueue);
    await queue.enqueue(JobName.AiExtract, { aiJobId: 'before' });
    await redis.stop();
    const refused = await queue.enqueue(JobName.AiExtract, { aiJobId: 'during' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(QueueUnavailableError);
    expect((refused as QueueUnavailableError).code).toBe(ErrorCode.QueueUnavailable);
    await expect(queue.removeUnlessRunning(JobName.AiExtract, 'before')).rejects.toBeInstanceOf(QueueUnavailableError);
    await redis.restart();
    // the connection comes back on its own; until it has, the answer is the same typed refusal
    const deadline = Date.now() + 20_000;
    let outcome: unknown;
    do {
      outcome = await queue.enqueue(JobName.AiExtract, { aiJobId: 'after' }).then(
        () => 'queued',
        (error: unknown) => error,
      );
      if (outcome !== 'queued') {
        expect(outcome).toBeInstanceOf(QueueUnavailableError);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } while (outcome !== 'queued' && Date.now() < deadline);
    expect(outcome).toBe('queued');
    expect(await queue.removeUnlessRunning(JobName.AiExtract, 'after')).toBe(true);
  }, 30_000);

  it('recognises what ioredis raises without an offline queue', async () => {
    const client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await redis.stop();
      const error = await client.ping().catch((e: unknown) => e);
      expect(isQueueUnavailable(error)).toBe(true);
    } finally {
      await redis.restart();
      // a client dropped while reconnecting lingers 2 s on its half-open socket
      if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
      client.disconnect();
    }
  });

  it('answers a command that never settles with QueueUnavailableError, hands a late result over, and passes other errors on', async () => {
    await expect(withinQueueDeadline(new Promise(() => undefined), 20)).rejects.toBeInstanceOf(QueueUnavailableError);
    let late: string | undefined;
    const slow = new Promise<string>((resolve) => setTimeout(() => resolve('added'), 50));
    await expect(withinQueueDeadline(slow, 10, (value) => (late = value))).rejects.toBeInstanceOf(QueueUnavailableError);
    await slow;
    expect(late).toBe('added');
    const wrong = new Error('Custom Id cannot be integers');
    await expect(withinQueueDeadline(Promise.reject(wrong), 1_000)).rejects.toBe(wrong);
    expect(isQueueUnavailable(wrong)).toBe(false);
  });
});

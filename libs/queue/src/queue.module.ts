import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { QueueOptions } from 'bullmq';
import { AppConfig } from '#libs/config';
import { JobQueue } from './job-queue.service.js';
import { QueueName } from './jobs.js';

/** BullMQ's connection and key prefix for queues and workers alike: the deployment's prefix, so tests and deployments never share queues. */
export function bullOptions(config: AppConfig): Pick<QueueOptions, 'connection' | 'prefix'> {
  return { connection: { url: config.redisUrl, maxRetriesPerRequest: null }, prefix: `${config.redisPrefix}:bull` };
}

/**
 * The connection of queues that enqueue and inspect jobs (not of workers): a command waiting for Redis
 * fails after one reconnect retry instead of waiting for ever (JobQueue also puts a deadline on it), and
 * reconnect attempts come at most a second apart, so work resumes within a second of Redis coming back.
 * The offline queue stays on: without it, closing a queue while Redis is away would leave its client
 * reconnecting for ever (ioredis ends a disconnected client on QUIT only through that queue).
 */
export function producerOptions(config: AppConfig): Pick<QueueOptions, 'connection' | 'prefix'> {
  return {
    ...bullOptions(config),
    connection: {
      url: config.redisUrl,
      maxRetriesPerRequest: 1,
      connectTimeout: 1_500,
      retryStrategy: (times: number) => Math.min(100 * times, 1_000),
    },
  };
}

/** BullMQ queues on the configured Redis, for every process that enqueues. */
@Module({})
export class QueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: QueueModule,
      global: true,
      imports: [BullModule.forRoot(producerOptions(config)), ...Object.values(QueueName).map((name) => BullModule.registerQueue({ name }))],
      providers: [JobQueue],
      exports: [JobQueue, BullModule],
    };
  }
}

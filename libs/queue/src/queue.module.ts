import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { JobQueue } from './job-queue.service.js';
import { QueueName } from './jobs.js';

/** BullMQ on the configured Redis, under the deployment's prefix so tests and deployments never share queues. */
@Module({})
export class QueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: QueueModule,
      global: true,
      imports: [
        BullModule.forRoot({
          connection: { url: config.redisUrl, maxRetriesPerRequest: null },
          prefix: `${config.redisPrefix}:bull`,
        }),
        ...Object.values(QueueName).map((name) => BullModule.registerQueue({ name })),
      ],
      providers: [JobQueue],
      exports: [JobQueue, BullModule],
    };
  }
}

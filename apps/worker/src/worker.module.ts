import { Processor } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { AiJobsModule } from '#libs/ai-jobs';
import { ByokModule } from '#libs/byok';
import type { AppConfig } from '#libs/config';
import { InfrastructureModule } from '#libs/infrastructure';
import type { LoggingOptions } from '#libs/logging';
import { QueueName } from '#libs/queue';
import { SyncModule } from '#libs/sync';
import { TenancyModule } from '#libs/tenancy';
import { AiJobsProcessor } from './ai-jobs.processor.js';
import { HistoricalSyncProcessor } from './historical-sync.processor.js';

/** The background process: the BullMQ processors, with worker options taken from the configuration. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logging: LoggingOptions = {}): DynamicModule {
    // applied here rather than at the class, because concurrency and lock duration are configuration
    Processor(QueueName.HistoricalSync, {
      concurrency: config.sync.workerConcurrency,
      lockDuration: config.sync.lockDurationMs,
      stalledInterval: Math.min(30_000, config.sync.lockDurationMs),
      maxStalledCount: 2,
    })(HistoricalSyncProcessor);
    Processor(QueueName.AiJobs, { concurrency: config.sync.aiWorkerConcurrency, lockDuration: config.sync.lockDurationMs })(AiJobsProcessor);
    return {
      module: WorkerModule,
      imports: [
        InfrastructureModule.forRoot(config, logging),
        TenancyModule,
        ByokModule,
        SyncModule,
        AiJobsModule,
      ],
      providers: [HistoricalSyncProcessor, AiJobsProcessor],
    };
  }
}

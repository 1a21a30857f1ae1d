import { type DynamicModule, Module } from '@nestjs/common';
import { AiJobsModule } from '#libs/ai-jobs';
import { BackfillModule } from '#libs/backfill';
import type { AppConfig } from '#libs/config';
import { DeletionModule } from '#libs/deletion';
import { InfrastructureModule } from '#libs/infrastructure';
import type { LoggingOptions } from '#libs/logging';
import { MetricsServer } from '#libs/metrics';
import { JobWorkersModule } from '#libs/queue';
import { WebhookDeliveryModule } from '#libs/webhooks';

/**
 * The background process: the job runtime over the modules whose providers handle jobs, and its
 * metrics on METRICS_PORT when set. Start-up fails unless every declared job has exactly one handler.
 */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logging: LoggingOptions = {}): DynamicModule {
    return {
      module: WorkerModule,
      imports: [InfrastructureModule.forRoot(config, logging), BackfillModule, AiJobsModule, DeletionModule, WebhookDeliveryModule, JobWorkersModule],
      providers: [MetricsServer],
    };
  }
}

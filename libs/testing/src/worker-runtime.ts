import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AiJobsModule } from '#libs/ai-jobs';
import { BackfillModule } from '#libs/backfill';
import { DeletionModule } from '#libs/deletion';
import type { AppConfig } from '#libs/config';
import { InfrastructureModule } from '#libs/infrastructure';
import { type LoggingOptions, PinoLoggerService } from '#libs/logging';
import { JobWorkersModule } from '#libs/queue';
import { WebhookDeliveryModule } from '#libs/webhooks';

/**
 * The job runtime in the test's own process, composed from the libs exactly as apps/worker composes
 * it (a job module missing here fails the start, as the handler registry checks every job), so
 * tests can watch the worker's connectors and logs in process.
 */
export async function startInProcessWorker(config: AppConfig, logging: LoggingOptions = {}): Promise<INestApplicationContext> {
  @Module({
    imports: [InfrastructureModule.forRoot(config, logging), BackfillModule, AiJobsModule, DeletionModule, WebhookDeliveryModule, JobWorkersModule],
  })
  class InProcessWorkerModule {}

  const app = await NestFactory.createApplicationContext(InProcessWorkerModule, { bufferLogs: true });
  app.useLogger(app.get(PinoLoggerService));
  await app.init();
  return app;
}

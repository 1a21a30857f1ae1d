import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from '#libs/config';
import { type LoggingOptions, PinoLoggerService } from '#libs/logging';
import { WorkerModule } from './worker.module.js';

export async function createWorkerApp(config: AppConfig, logging: LoggingOptions = {}): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, logging), { bufferLogs: true });
  app.useLogger(app.get(PinoLoggerService));
  // no enableShutdownHooks: main.ts handles SIGTERM itself, to let jobs hand back their work and exit 0
  return app;
}

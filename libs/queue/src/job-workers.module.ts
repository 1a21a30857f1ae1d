import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobHandlerRegistry } from './job-handler.registry.js';
import { JobReconciler } from './job-reconciler.service.js';
import { JobWorkers } from './job-workers.service.js';

/**
 * Runs jobs: import it (with the modules whose providers carry `@HandlesJob`) in a worker process.
 * Start-up fails unless every declared job has exactly one handler.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [JobHandlerRegistry, JobWorkers, JobReconciler],
})
export class JobWorkersModule {}

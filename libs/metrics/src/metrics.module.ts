import { Global, Module } from '@nestjs/common';
import { MetricsToken } from './bearer-token.js';
import { Metrics } from './metrics.js';

/**
 * One Metrics registry per process (per Nest app), injectable everywhere: libs record into it, apps
 * serve it (the API at /metrics, the worker through MetricsServer).
 */
@Global()
@Module({
  providers: [{ provide: Metrics, useFactory: () => new Metrics() }, MetricsToken],
  exports: [Metrics, MetricsToken],
})
export class MetricsModule {}

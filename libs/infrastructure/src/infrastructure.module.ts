import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, ConfigModule } from '#libs/config';
import { DatabaseModule } from '#libs/database';
import { LoggingModule, type LoggingOptions } from '#libs/logging';
import { MetricsModule } from '#libs/metrics';
import { QueueModule } from '#libs/queue';
import { RedisModule } from '#libs/redis';

/**
 * What every process of the product stands on, wired once: the validated configuration, logging,
 * metrics, Postgres, Redis and the queues. All of them are global, so importing this once is enough.
 */
@Module({})
export class InfrastructureModule {
  static forRoot(config: AppConfig, logging: LoggingOptions = {}): DynamicModule {
    return {
      module: InfrastructureModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, logging),
        MetricsModule,
        DatabaseModule,
        RedisModule,
        QueueModule.forRoot(config),
      ],
    };
  }
}

import { type DynamicModule, Module } from '@nestjs/common';
import { ByokModule } from '#libs/byok';
import { AppConfig, ConfigModule } from '#libs/config';
import { DatabaseModule } from '#libs/database';
import { LoggingModule, type LoggingOptions } from '#libs/logging';
import { RedisModule } from '#libs/redis';
import { TenancyModule } from '#libs/tenancy';

/** The background process: BullMQ processors are registered here. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logging: LoggingOptions = {}): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), LoggingModule.forRoot(config, logging), DatabaseModule, RedisModule, TenancyModule, ByokModule],
    };
  }
}

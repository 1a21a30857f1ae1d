import { Global, Module } from '@nestjs/common';
import { CacheInvalidationBus } from './cache-invalidation.bus.js';
import { RedisService } from './redis.service.js';

@Global()
@Module({ providers: [RedisService, CacheInvalidationBus], exports: [RedisService, CacheInvalidationBus] })
export class RedisModule {}

export * from './redis.service.js';
export * from './cache-invalidation.bus.js';
export * from './redis.module.js';
export * from './invalidated-cache.js';
export * from './lease-table.js';

export * from './private-redis.js';
export * from './private-postgres.js';

export * from './private-redis.js';
export * from './private-postgres.js';
export { freePort } from './free-port.js';

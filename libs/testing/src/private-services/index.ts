export * from './private-redis.js';
export * from './private-postgres.js';
export { freePort } from './free-port.js';
export * from './private-dovecot.js';

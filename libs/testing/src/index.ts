export * from './test-database.js';
export * from './test-config.js';
export * from './log-capture.js';
export * from './redis-cleanup.js';
export * from './medium-context.js';
export * from './provider-simulator/index.js';
export * from './email-fixtures.js';
export * from './secret-scan.js';

export * from './backfill.errors.js';
export * from './backfill.repository.js';
export * from './backfill-preflight.service.js';
export * from './backfill.service.js';
export * from './backfill-runner.service.js';
export * from './backfill.job.js';
export * from './backfill.module.js';

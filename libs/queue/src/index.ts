export * from './jobs.js';
export * from './job-queue.service.js';
export * from './queue.module.js';
export * from './job-handler.js';
export * from './job-handler.registry.js';
export * from './job-workers.service.js';
export * from './job-workers.module.js';
export * from './queue-unavailable.js';

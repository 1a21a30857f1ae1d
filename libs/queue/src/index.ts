export * from './jobs.js';
export * from './job-queue.service.js';
export * from './queue.module.js';

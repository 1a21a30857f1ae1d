export * from './ai-job.repository.js';
export * from './ai-job.service.js';
export * from './ai-job-runner.service.js';
export * from './ai-extract.job.js';
export * from './ai-jobs.module.js';

export * from './deletion.errors.js';
export * from './record-deletion.service.js';
export * from './workspace-deletion.repository.js';
export * from './workspace-deletion.service.js';
export * from './workspace-deletion.job.js';
export * from './deletion.module.js';
export * from './workspace-purge.js';

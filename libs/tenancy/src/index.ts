export * from './tenancy.errors.js';
export * from './tenant-resolver.service.js';
export * from './tenant.service.js';
export * from './workspace.service.js';
export * from './tenant-token.service.js';
export * from './tenancy.module.js';
export * from './rate-limits.service.js';

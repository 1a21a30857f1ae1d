export * from './budget.repository.js';
export * from './budget.service.js';
export * from './token-estimate.js';
export * from './usage-clock.js';
export * from './usage.errors.js';
export * from './usage.module.js';
export * from './usage.repository.js';
export * from './usage.service.js';

export * from './job-preflight.service.js';
export * from './key-validation.service.js';
export * from './provider-choice.service.js';
export * from './provider-session.js';
export * from './retry-policy.js';
export * from './usage-outcome.js';
export * from './tenant-llm.module.js';
export * from './throttle/index.js';

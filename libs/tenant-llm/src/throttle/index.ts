export * from './aimd.js';
export * from './key-limits.js';
export * from './key-rate-limiter.service.js';
export * from './provider-throttle.service.js';
export * from './tenant-call-permits.service.js';
export * from './throttle-events.js';
export * from './throttle.errors.js';
export * from './window-plan.js';

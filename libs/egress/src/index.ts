export * from './egress.errors.js';
export * from './egress-policy.js';
export * from './egress-client.js';
export * from './egress.module.js';

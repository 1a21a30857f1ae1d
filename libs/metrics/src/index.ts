export * from './metrics.js';
export * from './metrics.module.js';
export * from './bearer-token.js';
export * from './metrics-server.js';

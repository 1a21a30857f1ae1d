export * from './simulator-types.js';
export * from './fingerprint.js';
export * from './entity-extraction.js';
export * from './valid-keys-spec.js';
export * from './simulator-env.js';
export * from './simulator-gate.js';
export * from './fault-markers.js';
export * from './provider-simulator.js';

export * from './llm.errors.js';
export * from './llm-provider.js';
export * from './provider-registry.js';
export * from './llm-client.factory.js';
export * from './placeholder-keys.js';
export * from './key-validator.js';
export * from './llm.module.js';
export * from './provider-retry.js';

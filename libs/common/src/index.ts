export * from './error-code.js';
export * from './app-error.js';
export * from './mask.js';
export * from './provider-id.js';
export * from './request-key.js';
export * from './validation.js';
export * from './json-input.js';

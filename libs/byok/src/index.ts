export * from './byok.errors.js';
export * from './setting-catalog.js';
export * from './key-cipher.js';
export * from './key-fingerprinter.js';
export * from './byok-key-store.service.js';
export * from './key-resolver.service.js';
export * from './key-rotation.service.js';
export * from './byok.module.js';

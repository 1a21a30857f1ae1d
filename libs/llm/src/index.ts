export * from './llm.errors.js';

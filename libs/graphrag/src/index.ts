export * from './chunker.js';
export * from './extraction-schema.js';
export * from './graph-merge.js';
export * from './graph.repository.js';
export * from './graphrag.module.js';
export * from './graph-extractor.service.js';
export * from './graph-query.service.js';
export * from './graph-page.js';
export { GraphReadTimeoutError, GraphReadAbortedError } from './graph-read-pool.js';

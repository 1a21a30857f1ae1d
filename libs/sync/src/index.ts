export * from './sync.errors.js';
export * from './source-record.js';
export * from './mbox-parser.js';
export * from './record-ingest.service.js';
export * from './sync.module.js';

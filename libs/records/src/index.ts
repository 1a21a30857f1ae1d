export * from './records.errors.js';
export * from './source-record.js';
export * from './record-ingest.service.js';
export * from './record-reader.service.js';
export * from './record-source.js';
export * from './records.module.js';

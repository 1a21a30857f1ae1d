export * from './redaction.js';
export * from './logging.module.js';
export * from './pino-logger.service.js';

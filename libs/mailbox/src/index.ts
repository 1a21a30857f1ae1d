export * from './mailbox.errors.js';
export * from './imap-connector.js';
export * from './imap-source.repository.js';
export * from './mailbox-sources.service.js';
export * from './imap-record-source.js';
export * from './mailbox.module.js';
export * from './mailbox-secret-rotation.service.js';

export * from './prisma.service.js';
export * from './migrator.js';
export * from './transaction.service.js';
export * from './database.module.js';
export { Prisma } from './generated/client.js';
export type {
  Tenant,
  Workspace,
  TenantSetting,
  TenantToken,
  SourceRecord,
  Backfill,
  BackfillRecordFailure,
  Entity,
  Relationship,
  EntityMention,
  KeyUsage,
  TenantBudget,
  AiJob,
  RecordTombstone,
  WorkspaceDeletion,
  AuditEvent,
  WebhookEndpoint,
  ImapSource,
  WebhookEvent,
  WebhookDelivery,
  WebhookDeliveryAttempt,
} from './generated/client.js';
export {
  PlanType,
  AiKeyMode,
  ValidationStatus,
  BackfillStatus,
  AiJobStatus,
  WorkspaceDeletionStatus,
  AuditActorKind,
  TokenScope,
  WebhookDeliveryStatus,
} from './generated/enums.js';
export * from './database-unavailable.js';

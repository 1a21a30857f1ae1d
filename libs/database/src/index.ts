export * from './prisma.service.js';
export * from './migrator.js';
export * from './database.module.js';
export { Prisma } from './generated/client.js';
export type { Tenant, Workspace, TenantSetting, TenantToken } from './generated/client.js';
export { PlanType, AiKeyMode, ValidationStatus } from './generated/enums.js';

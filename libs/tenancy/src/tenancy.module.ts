import { Module } from '@nestjs/common';
import { AuditEventRepository } from './audit-event.repository.js';
import { AuditLog } from './audit-log.service.js';
import { RateLimitsService } from './rate-limits.service.js';
import { TenantResolver } from './tenant-resolver.service.js';
import { TenantRepository } from './tenant.repository.js';
import { TenantService } from './tenant.service.js';
import { TenantTokenRepository } from './tenant-token.repository.js';
import { TenantTokenService } from './tenant-token.service.js';
import { WorkspaceRepository } from './workspace.repository.js';
import { WorkspaceService } from './workspace.service.js';

@Module({
  providers: [
    AuditEventRepository,
    AuditLog,
    TenantRepository,
    WorkspaceRepository,
    TenantTokenRepository,
    TenantResolver,
    TenantService,
    WorkspaceService,
    TenantTokenService,
    RateLimitsService,
  ],
  exports: [AuditLog, TenantResolver, TenantService, WorkspaceService, TenantTokenService, RateLimitsService],
})
export class TenancyModule {}

import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type AuditEntry, AuditLog, TenantService } from '#libs/tenancy';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { openApiSchema, UuidParam, ValidQuery } from '../http/zod-validation.js';
import { type AuditQueryParams, auditPageView, auditQuery } from './audit.dto.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/tenants/:tenantId/audit')
export class AuditController {
  constructor(
    private readonly audit: AuditLog,
    private readonly tenants: TenantService,
  ) {}

  /**
   * The tenant's audit log, newest first, keyset paginated (`nextCursor`), filtered by action and a
   * time range [from, to). The platform admin or the tenant's own token; another tenant's is 404.
   */
  @Get()
  @ApiOkResponse({ schema: openApiSchema(auditPageView, 'output') })
  async list(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('tenantId') tenantId: string,
    @ValidQuery(auditQuery) query: AuditQueryParams,
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    assertTenantAccess(principal, tenantId);
    await this.tenants.get(tenantId);
    return this.audit.list(tenantId, query);
  }
}

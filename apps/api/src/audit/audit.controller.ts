import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '#libs/common';
import { type AuditEntry, AuditLog, TenantService, type TenantScope } from '#libs/tenancy';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidQuery } from '../http/zod-validation.js';
import { type AuditQueryParams, auditPageView, auditQuery } from './audit.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { auditPageExample } from './audit.examples.js';

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
  @ApiOperation({
    summary: "Read a tenant's audit log",
    description:
      'Changes to keys, tokens, ownership and key mode (never a key: fingerprint and last4 at most), newest first, keyset paginated, filtered by action and [from, to).',
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, auditPageView, auditPageExample)
  async list(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidQuery(auditQuery) query: AuditQueryParams,
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.audit.list(tenant.id, query);
  }
}

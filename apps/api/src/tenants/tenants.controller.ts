import { Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '#libs/common';
import { AuditLog, type RequestActor, TenantService, type TenantScope } from '#libs/tenancy';
import { CurrentActor, PlatformOnly } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody, ValidQuery } from '../http/zod-validation.js';
import {
  type CreateTenantBody,
  createTenantBody,
  type TenantListQueryParams,
  tenantListQuery,
  tenantPageView,
  type TenantView,
  tenantView,
  toTenantView,
} from './tenant.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { tenantExample, tenantPageExample } from './tenant.examples.js';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantService,
    private readonly audit: AuditLog,
  ) {}

  @Post()
  @PlatformOnly()
  @ApiOperation({
    summary: 'Create a tenant',
    description:
      'Platform admin only. The key mode (byok: its own keys; managed: the platform keys) is set here for good and written to the audit log.',
  })
  @ApiErrors(ErrorCode.SubdomainTaken)
  @ApiSuccess(201, tenantView, tenantExample)
  async create(
    @ValidBody(createTenantBody, { subdomain: 'brennan', planType: 'team', aiKeyMode: 'byok' }) body: CreateTenantBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<TenantView> {
    const tenant = await this.tenants.create(body);
    // the key mode is set only here (no route changes it); recorded right after the insert, which
    // the tenant service owns alone: a crash in between leaves a tenant whose first mode is unlogged
    await this.audit.record(tenant.id, actor, { action: 'tenant.key_mode', details: { aiKeyMode: tenant.aiKeyMode, planType: tenant.planType } });
    return toTenantView(tenant);
  }

  /** Every tenant, in subdomain order, keyset paginated; the platform admin's alone (a tenant token gets 403). */
  @Get()
  @PlatformOnly()
  @ApiOperation({
    summary: 'List tenants',
    description:
      'Platform admin only (a tenant token gets 403 FORBIDDEN). Every tenant in subdomain order, keyset paginated: `limit` (1 to 200, default 50) ' +
      "and `cursor` (the previous page's opaque `nextCursor`; one the API did not hand out is 400). `subdomain` is a prefix filter.",
  })
  @ApiErrors()
  @ApiSuccess(200, tenantPageView, tenantPageExample)
  async list(@ValidQuery(tenantListQuery) query: TenantListQueryParams): Promise<{ items: TenantView[]; nextCursor: string | null }> {
    const page = await this.tenants.listAll({ cursor: query.cursor, limit: query.limit, subdomainPrefix: query.subdomain });
    return { items: page.items.map(toTenantView), nextCursor: page.nextCursor };
  }

  @Get(':tenantId')
  @ApiOperation({
    summary: 'Get a tenant',
    description: "The platform admin, or the tenant's own token; another tenant's answers 404 as a missing one.",
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, tenantView, tenantExample)
  async get(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<TenantView> {
    return toTenantView(await this.tenants.getIn(scope, tenantId));
  }
}

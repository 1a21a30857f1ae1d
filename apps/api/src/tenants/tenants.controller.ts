import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { TenantService, TenantTokenService } from '#libs/tenancy';
import { CurrentPrincipal, PlatformOnly, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { openApiSchema, UuidParam, ValidBody } from '../http/zod-validation.js';
import { type CreateTenantBody, createTenantBody, type TenantView, tenantView, toTenantView, tokenView } from './tenant.dto.js';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantService,
    private readonly tokens: TenantTokenService,
  ) {}

  @Post()
  @PlatformOnly()
  @ApiCreatedResponse({ schema: openApiSchema(tenantView, 'output') })
  async create(@ValidBody(createTenantBody) body: CreateTenantBody): Promise<TenantView> {
    return toTenantView(await this.tenants.create(body));
  }

  @Get(':tenantId')
  @ApiOkResponse({ schema: openApiSchema(tenantView, 'output') })
  async get(@CurrentPrincipal() principal: Principal, @UuidParam('tenantId') tenantId: string): Promise<TenantView> {
    assertTenantAccess(principal, tenantId);
    return toTenantView(await this.tenants.get(tenantId));
  }

  @Post(':tenantId/tokens')
  @HttpCode(201)
  @ApiCreatedResponse({ schema: openApiSchema(tokenView, 'output') })
  async issueToken(@CurrentPrincipal() principal: Principal, @UuidParam('tenantId') tenantId: string): Promise<{ token: string }> {
    assertTenantAccess(principal, tenantId);
    return { token: await this.tokens.issue(tenantId) };
  }
}

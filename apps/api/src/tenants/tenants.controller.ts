import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { TenantService, TenantTokenService } from '#libs/tenancy';
import { CurrentPrincipal, PlatformOnly, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { uuidParam } from '../http/validation.js';
import { CreateTenantDto, TenantView, TokenView } from './tenant.dto.js';

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
  @ApiCreatedResponse({ type: TenantView })
  async create(@Body() body: CreateTenantDto): Promise<TenantView> {
    return TenantView.of(await this.tenants.create(body));
  }

  @Get(':tenantId')
  @ApiOkResponse({ type: TenantView })
  async get(@CurrentPrincipal() principal: Principal, @Param('tenantId', uuidParam('tenantId')) tenantId: string): Promise<TenantView> {
    assertTenantAccess(principal, tenantId);
    return TenantView.of(await this.tenants.get(tenantId));
  }

  @Post(':tenantId/tokens')
  @HttpCode(201)
  @ApiCreatedResponse({ type: TokenView })
  async issueToken(@CurrentPrincipal() principal: Principal, @Param('tenantId', uuidParam('tenantId')) tenantId: string): Promise<TokenView> {
    assertTenantAccess(principal, tenantId);
    return { token: await this.tokens.issue(tenantId) };
  }
}

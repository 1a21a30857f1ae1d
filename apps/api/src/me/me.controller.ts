import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { TenantService } from '#libs/tenancy';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { TenantView } from '../tenants/tenant.dto.js';

/** Who the token belongs to: the dashboard starts here after sign-in. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  constructor(private readonly tenants: TenantService) {}

  @Get()
  @ApiOkResponse({ description: '{ kind: "platform" } or { kind: "tenant", tenant }' })
  async me(@CurrentPrincipal() principal: Principal): Promise<{ kind: 'platform' } | { kind: 'tenant'; tenant: TenantView }> {
    if (principal.kind === 'platform') return { kind: 'platform' };
    return { kind: 'tenant', tenant: TenantView.of(await this.tenants.get(principal.tenantId)) };
  }
}

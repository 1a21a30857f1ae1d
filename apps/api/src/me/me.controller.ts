import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { TokenScope } from '#libs/database';
import { TenantService } from '#libs/tenancy';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { ApiErrors } from '../http/api-errors.js';
import { tenantView, toTenantView } from '../tenants/tenant.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { EXAMPLE } from '../http/example-values.js';
import { tenantExample } from '../tenants/tenant.examples.js';

const meView = z.union([
  z.object({ kind: z.literal('platform') }),
  z.object({
    kind: z.literal('tenant'),
    tenant: tenantView,
    token: z.object({ id: z.uuid(), name: z.string(), scope: z.enum(TokenScope) }).meta({ description: 'The token this request carried' }),
  }),
]);
type MeView = z.output<typeof meView>;

/** Who the token belongs to: the dashboard starts here after sign-in. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  constructor(private readonly tenants: TenantService) {}

  @Get()
  @ApiOperation({
    summary: 'Who am I',
    description: 'The platform admin, or the tenant and the token (id, name, scope) this request carried. The dashboard starts here after sign-in.',
  })
  @ApiErrors()
  @ApiSuccess(200, meView, {
    kind: 'tenant',
    tenant: tenantExample,
    token: { id: EXAMPLE.tokenId, name: 'CI deploys', scope: 'admin' },
  })
  async me(@CurrentPrincipal() principal: Principal): Promise<MeView> {
    if (principal.kind === 'platform') return { kind: 'platform' };
    return {
      kind: 'tenant',
      tenant: toTenantView(await this.tenants.get(principal.tenantId)),
      token: { id: principal.tokenId, name: principal.tokenName, scope: principal.scope },
    };
  }
}

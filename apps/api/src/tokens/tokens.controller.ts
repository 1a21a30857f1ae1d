import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '#libs/common';
import { type RequestActor, TenantService, type TenantScope, TenantTokenService, type TokenInfo } from '#libs/tenancy';
import { AdminScope, CurrentActor } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody } from '../http/zod-validation.js';
import {
  type CreateTokenBody,
  createTokenBody,
  type IssuedTokenView,
  issuedTokenView,
  type RotateTokenBody,
  rotateTokenBody,
  tokenListView,
  toIssuedTokenView,
  toTokenListView,
} from './tokens.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { issuedTokenExample, tokenListExample } from './tokens.examples.js';

/**
 * A tenant's tokens: create, list (prefix only), revoke, rotate. The platform admin or an
 * admin-scope token of the tenant; a read-scope token gets 403 TOKEN_READ_ONLY, another tenant's 404.
 */
@ApiTags('tokens')
@ApiBearerAuth()
@Controller('v1/tenants/:tenantId/tokens')
export class TokensController {
  constructor(
    private readonly tenants: TenantService,
    private readonly tokens: TenantTokenService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a tenant token',
    description:
      'A `tt_` token, shown in this answer only (only its SHA-256 is stored), with a name, a scope (admin or read) and an expiry (1 to 365 days, default 90).',
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @HttpCode(201)
  @ApiSuccess(201, issuedTokenView, issuedTokenExample, 'The token, shown this once')
  async create(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidBody(createTokenBody, { name: 'CI deploys', scope: 'read', expiresInDays: 30 }) body: CreateTokenBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<IssuedTokenView> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return toIssuedTokenView(await this.tokens.issue(tenant.id, body, actor));
  }

  @Get()
  @AdminScope()
  @ApiOperation({
    summary: "List a tenant's tokens",
    description: 'Newest first, each with its prefix only, never the token. A read-scope token may not list tokens (403 TOKEN_READ_ONLY).',
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, tokenListView, tokenListExample)
  async list(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<{ items: TokenInfo[] }> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return toTokenListView(await this.tokens.list(tenant.id));
  }

  /** Revokes the token at once in every API process; revoking a revoked token is not an error. */
  @Delete(':tokenId')
  @ApiOperation({
    summary: 'Revoke a tenant token',
    description: 'Refused at once by every API process; revoking a revoked token is not an error (204).',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.TokenNotFound)
  @HttpCode(204)
  @ApiNoContentResponse()
  async revoke(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('tokenId') tokenId: string,
    @CurrentActor() actor: RequestActor,
  ): Promise<void> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    await this.tokens.revoke(tenant.id, tokenId, actor);
  }

  /** A new token of the same name and scope; the old one is revoked in the same transaction. */
  @Post(':tokenId/rotate')
  @ApiOperation({
    summary: 'Rotate a tenant token',
    description:
      'A new token with the same name and scope, shown once; the old one is revoked in the same transaction. A revoked token cannot be rotated (409 TOKEN_REVOKED).',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.TokenNotFound, ErrorCode.TokenRevoked)
  @HttpCode(201)
  @ApiSuccess(201, issuedTokenView, issuedTokenExample, 'The new token, shown this once')
  async rotate(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('tokenId') tokenId: string,
    @ValidBody(rotateTokenBody, { expiresInDays: 90 }) body: RotateTokenBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<IssuedTokenView> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return toIssuedTokenView(await this.tokens.rotate(tenant.id, tokenId, actor, body.expiresInDays));
  }
}

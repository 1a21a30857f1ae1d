import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type RequestActor, TenantTokenService, type TokenInfo } from '#libs/tenancy';
import { AdminScope, CurrentActor, CurrentPrincipal, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { openApiSchema, UuidParam, ValidBody } from '../http/zod-validation.js';
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

/**
 * A tenant's tokens: create, list (prefix only), revoke, rotate. The platform admin or an
 * admin-scope token of the tenant; a read-scope token gets 403 TOKEN_READ_ONLY, another tenant's 404.
 */
@ApiTags('tokens')
@ApiBearerAuth()
@Controller('v1/tenants/:tenantId/tokens')
export class TokensController {
  constructor(private readonly tokens: TenantTokenService) {}

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ schema: openApiSchema(issuedTokenView, 'output') })
  async create(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('tenantId') tenantId: string,
    @ValidBody(createTokenBody) body: CreateTokenBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<IssuedTokenView> {
    assertTenantAccess(principal, tenantId);
    return toIssuedTokenView(await this.tokens.issue(tenantId, body, actor));
  }

  @Get()
  @AdminScope()
  @ApiOkResponse({ schema: openApiSchema(tokenListView, 'output') })
  async list(@CurrentPrincipal() principal: Principal, @UuidParam('tenantId') tenantId: string): Promise<{ items: TokenInfo[] }> {
    assertTenantAccess(principal, tenantId);
    return toTokenListView(await this.tokens.list(tenantId));
  }

  /** Revokes the token at once in every API process; revoking a revoked token is not an error. */
  @Delete(':tokenId')
  @HttpCode(204)
  @ApiNoContentResponse()
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('tokenId') tokenId: string,
    @CurrentActor() actor: RequestActor,
  ): Promise<void> {
    assertTenantAccess(principal, tenantId);
    await this.tokens.revoke(tenantId, tokenId, actor);
  }

  /** A new token of the same name and scope; the old one is revoked in the same transaction. */
  @Post(':tokenId/rotate')
  @HttpCode(201)
  @ApiCreatedResponse({ schema: openApiSchema(issuedTokenView, 'output') })
  async rotate(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('tokenId') tokenId: string,
    @ValidBody(rotateTokenBody) body: RotateTokenBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<IssuedTokenView> {
    assertTenantAccess(principal, tenantId);
    return toIssuedTokenView(await this.tokens.rotate(tenantId, tokenId, actor, body.expiresInDays));
  }
}

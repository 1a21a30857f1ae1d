import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsDefined } from 'class-validator';
import { ByokKeyStore, type MaskedSetting } from '#libs/byok';
import { TenantService } from '#libs/tenancy';
import { KeyValidationService, type ValidationOutcome } from '#libs/tenant-llm';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { uuidParam } from '../http/validation.js';

export class PutSettingDto {
  @ApiProperty({ description: 'The key or value; at most 512 characters, no whitespace or control characters inside' })
  @IsDefined({ message: 'value is required' })
  value: unknown;
}

export class ValidationView {
  @ApiProperty({ enum: ['valid', 'invalid'] }) status: string;
  @ApiProperty({ enum: ['openai', 'gemini', 'deepseek'] }) provider: string;
  @ApiProperty() checkedAt: Date;
}

export class SettingView {
  @ApiProperty({ example: 'OPENAI_API_KEY' }) key: string;
  @ApiProperty() isSecret: boolean;
  @ApiPropertyOptional({ description: 'Only for non-secret settings' }) value?: string;
  @ApiProperty({ nullable: true, type: String }) last4: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'HMAC-SHA256 of the key' }) fingerprint: string | null;
  @ApiProperty({ enum: ['unknown', 'valid', 'invalid'] }) validationStatus: string;
  @ApiProperty({ nullable: true, type: Date }) validatedAt: Date | null;
  @ApiProperty() updatedAt: Date;
}

@ApiTags('settings')
@ApiBearerAuth()
@Controller('v1/tenants/:tenantId/settings')
export class SettingsController {
  constructor(
    private readonly store: ByokKeyStore,
    private readonly tenants: TenantService,
    private readonly validation: KeyValidationService,
  ) {}

  @Get()
  async list(@CurrentPrincipal() principal: Principal, @Param('tenantId', uuidParam('tenantId')) tenantId: string): Promise<{ items: MaskedSetting[] }> {
    await this.ownTenant(principal, tenantId);
    return { items: await this.store.list(tenantId) };
  }

  @Put(':key')
  @ApiOkResponse({ type: SettingView })
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Param('key') key: string,
    @Body() body: PutSettingDto,
  ): Promise<MaskedSetting> {
    await this.ownTenant(principal, tenantId);
    return this.store.put(tenantId, key, body.value);
  }

  @Delete(':key')
  @HttpCode(204)
  @ApiNoContentResponse()
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Param('key') key: string,
  ): Promise<void> {
    await this.ownTenant(principal, tenantId);
    await this.store.delete(tenantId, key);
  }

  /** Checks the stored key now (offline for placeholders, else one cheap provider call) and records the verdict. */
  @Post(':key/validate')
  @HttpCode(200)
  @ApiOkResponse({ type: ValidationView })
  async validate(
    @CurrentPrincipal() principal: Principal,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Param('key') key: string,
  ): Promise<ValidationOutcome> {
    await this.ownTenant(principal, tenantId);
    return this.validation.validateStored(tenantId, key);
  }

  private async ownTenant(principal: Principal, tenantId: string): Promise<void> {
    assertTenantAccess(principal, tenantId);
    await this.tenants.get(tenantId);
  }
}

import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ByokKeyStore, type MaskedSetting } from '#libs/byok';
import { ErrorCode } from '#libs/common';
import { type RequestActor, TenantService, type TenantScope } from '#libs/tenancy';
import { KeyValidationService, type ValidationOutcome } from '#libs/tenant-llm';
import { CurrentActor } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody } from '../http/zod-validation.js';
import { type PutSettingBody, putSettingBody, settingView, validationView } from './settings.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { plainSettingExample, secretSettingExample, validationExample } from './settings.examples.js';

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
  @ApiOperation({
    summary: "List a tenant's settings",
    description:
      'Provider keys show as last4 and fingerprint only, never the key; non-secret settings (provider choice, rates, models, endpoints) show their value.',
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, z.object({ items: z.array(settingView) }), { items: [secretSettingExample, plainSettingExample] })
  async list(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<{ items: MaskedSetting[] }> {
    await this.tenants.getIn(scope, tenantId);
    return { items: await this.store.list(tenantId) };
  }

  @Put(':key')
  @ApiOperation({
    summary: 'Set a setting (a provider key or a plain setting)',
    description:
      'A `*_API_KEY` is stored encrypted (AES-256-GCM) and answered masked; its validation status starts over as unknown. ' +
      'A URL setting is checked by the egress policy (400 EGRESS_REFUSED). The change is written to the audit log.',
  })
  @ApiParam({
    name: 'key',
    description: 'The setting key, e.g. OPENAI_API_KEY, GRAPHRAG_PROVIDER, OPENAI_RPM, OPENAI_MODEL',
    example: 'OPENAI_API_KEY',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.UnknownSettingKey, ErrorCode.InvalidSettingValue, ErrorCode.EgressRefused)
  @ApiSuccess(200, settingView, { ...secretSettingExample, validationStatus: 'unknown', validatedAt: null })
  async put(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @Param('key') key: string,
    @ValidBody(putSettingBody, { value: 'sk-proj-your-own-openai-key' }) body: PutSettingBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<MaskedSetting> {
    await this.tenants.getIn(scope, tenantId);
    return this.store.put(tenantId, key, body.value, actor);
  }

  @Delete(':key')
  @ApiOperation({
    summary: 'Delete a setting',
    description: 'A deleted provider key is gone at once: jobs started after it use no key of it. Written to the audit log.',
  })
  @ApiParam({ name: 'key', description: 'The setting key', example: 'OPENAI_API_KEY' })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.UnknownSettingKey, ErrorCode.SettingNotFound)
  @HttpCode(204)
  @ApiNoContentResponse()
  async delete(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @Param('key') key: string,
    @CurrentActor() actor: RequestActor,
  ): Promise<void> {
    await this.tenants.getIn(scope, tenantId);
    await this.store.delete(tenantId, key, actor);
  }

  /** Checks the stored key now (offline for placeholders, else one cheap provider call) and records the verdict. */
  @Post(':key/validate')
  @ApiOperation({
    summary: 'Validate a stored provider key now',
    description:
      "Offline for placeholder keys, else one cheap provider call with the tenant's model; the verdict is stored on the setting and written to the audit log. " +
      'A provider that does not answer leaves no verdict (429 RATE_LIMITED, 502 PROVIDER_UNAVAILABLE).',
  })
  @ApiParam({ name: 'key', description: 'A provider key setting', example: 'OPENAI_API_KEY' })
  @ApiErrors(
    ErrorCode.TenantNotFound,
    ErrorCode.UnknownSettingKey,
    ErrorCode.SettingNotFound,
    ErrorCode.ProviderNotConfigured,
    ErrorCode.ModelNotAvailable,
    ErrorCode.EgressRefused,
    ErrorCode.RateLimited,
    ErrorCode.ProviderUnavailable,
  )
  @HttpCode(200)
  @ApiSuccess(200, validationView, validationExample)
  async validate(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @Param('key') key: string,
    @CurrentActor() actor: RequestActor,
  ): Promise<ValidationOutcome> {
    await this.tenants.getIn(scope, tenantId);
    return this.validation.validateStored(tenantId, key, actor);
  }
}

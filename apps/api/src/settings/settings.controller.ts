import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ByokKeyStore, type MaskedSetting } from '#libs/byok';
import { type RequestActor, TenantService, type TenantScope } from '#libs/tenancy';
import { KeyValidationService, type ValidationOutcome } from '#libs/tenant-llm';
import { CurrentActor } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { openApiSchema, UuidParam, ValidBody } from '../http/zod-validation.js';
import { type PutSettingBody, putSettingBody, settingView, validationView } from './settings.dto.js';

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
  @ApiOkResponse({ schema: openApiSchema(z.object({ items: z.array(settingView) }), 'output') })
  async list(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<{ items: MaskedSetting[] }> {
    await this.tenants.getIn(scope, tenantId);
    return { items: await this.store.list(tenantId) };
  }

  @Put(':key')
  @ApiOkResponse({ schema: openApiSchema(settingView, 'output') })
  async put(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @Param('key') key: string,
    @ValidBody(putSettingBody) body: PutSettingBody,
    @CurrentActor() actor: RequestActor,
  ): Promise<MaskedSetting> {
    await this.tenants.getIn(scope, tenantId);
    return this.store.put(tenantId, key, body.value, actor);
  }

  @Delete(':key')
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
  @HttpCode(200)
  @ApiOkResponse({ schema: openApiSchema(validationView, 'output') })
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

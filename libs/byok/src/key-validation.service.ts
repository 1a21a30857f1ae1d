import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '#libs/common';
import { ValidationStatus } from '#libs/database';
import { KeyValidator } from '#libs/llm';
import { TenantResolver } from '#libs/tenancy';
import { ByokKeyStore } from './byok-key-store.service.js';
import { SettingNotFoundError } from './byok.errors.js';
import { settingDefinition } from './setting-catalog.js';

export interface ValidationOutcome {
  status: 'valid' | 'invalid';
  provider: string;
  checkedAt: Date;
}

/**
 * Checks a tenant's stored key (placeholders offline, otherwise one cheap live call) and records
 * the verdict on the setting. A rate limit or outage is not a verdict: it propagates as its typed error.
 */
@Injectable()
export class KeyValidationService {
  constructor(
    private readonly store: ByokKeyStore,
    private readonly validator: KeyValidator,
    private readonly tenants: TenantResolver,
  ) {}

  async validateStored(tenantId: string, settingKey: string): Promise<ValidationOutcome> {
    const definition = settingDefinition(settingKey);
    if (!definition.provider) throw new ValidationFailedError(`${settingKey} is not a provider key`);
    const stored = await this.store.get(tenantId, settingKey);
    if (!stored) throw new SettingNotFoundError(settingKey);
    const tenant = await this.tenants.tenant(tenantId);

    const verdict = await this.validator.validate(definition.provider, stored.key, stored.fingerprint, {
      tenantLabel: tenant.subdomain,
      keyLast4: stored.last4,
    });
    await this.store.recordValidation(tenantId, settingKey, stored.fingerprint, ValidationStatus[verdict.status], verdict.checkedAt);
    return { status: verdict.status, provider: definition.provider, checkedAt: verdict.checkedAt };
  }
}

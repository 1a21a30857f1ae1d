import { Injectable, Logger } from '@nestjs/common';
import { apiKeySettingFor, isProviderId, maskKey, type ProviderId } from '#libs/common';
import { AppConfig } from '#libs/config';
import { ByokKeyStore, KeyResolver, type ResolvedKey } from '#libs/byok';
import { PlanType, ValidationStatus } from '#libs/database';
import { AuthenticationError, type KeyContext, KeyValidator, MissingApiKeyError, withProviderRetry } from '#libs/llm';
import { type ResolvedTenant, TenantResolver } from '#libs/tenancy';
import { PlanNotEligibleError } from './sync.errors.js';

export const DEFAULT_GRAPHRAG_PROVIDER: ProviderId = 'openai';

export interface PreflightResult {
  tenant: ResolvedTenant;
  provider: ProviderId;
  key: ResolvedKey;
  context: KeyContext;
}

/**
 * Everything a backfill must know before it may fetch a single record: whose data it is, whether
 * the plan allows it, and a key that exists, is no placeholder and the provider accepts. Every
 * refusal is a typed, non-retryable error with a message that says how to fix it.
 */
@Injectable()
export class BackfillPreflight {
  private readonly logger = new Logger(BackfillPreflight.name);

  constructor(
    private readonly tenants: TenantResolver,
    private readonly store: ByokKeyStore,
    private readonly keys: KeyResolver,
    private readonly validator: KeyValidator,
    private readonly config: AppConfig,
  ) {}

  async check(workspaceId: string, requestKey?: { provider: ProviderId; key: string }): Promise<PreflightResult> {
    const tenant = await this.tenants.resolve(workspaceId);
    this.logger.log({ workspaceId, tenantId: tenant.tenantId }, 'Resolved tenant_id from workspace_id');
    if (tenant.planType === PlanType.free) throw new PlanNotEligibleError(tenant.subdomain, tenant.planType);

    const provider = requestKey?.provider ?? (await this.graphragProvider(tenant.tenantId));
    const settingKey = apiKeySettingFor(provider);
    let key: ResolvedKey;
    try {
      key = await this.keys.resolve({ tenantId: tenant.tenantId, provider, requestKey: requestKey?.key });
    } catch (error) {
      if (error instanceof MissingApiKeyError) {
        throw new MissingApiKeyError(provider, `Skipping backfill: tenant ${tenant.subdomain} has no valid ${settingKey}. Add the key in Settings.`);
      }
      throw error;
    }

    const context: KeyContext = { tenantLabel: tenant.subdomain, keyLast4: key.last4 };
    const verdict = await withProviderRetry(this.retryPolicy(), () => this.validator.validate(provider, key.key, key.fingerprint, context));
    if (key.source === 'tenant') {
      await this.store.recordValidation(tenant.tenantId, settingKey, key.fingerprint, ValidationStatus[verdict.status], verdict.checkedAt);
    }
    if (verdict.status === 'invalid') {
      throw new AuthenticationError(
        provider,
        `Skipping backfill: tenant ${tenant.subdomain} has no valid ${settingKey} (key ${maskKey(key.last4)}: ${verdict.reason ?? 'refused'}). Add a working key in Settings.`,
      );
    }
    return { tenant, provider, key, context };
  }

  private async graphragProvider(tenantId: string): Promise<ProviderId> {
    const configured = await this.store.getPlain(tenantId, 'GRAPHRAG_PROVIDER');
    return isProviderId(configured) ? configured : DEFAULT_GRAPHRAG_PROVIDER;
  }

  private retryPolicy() {
    return { maxAttempts: this.config.sync.providerMaxAttempts, baseDelayMs: this.config.sync.providerRetryBaseMs };
  }
}

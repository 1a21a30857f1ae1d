import { Injectable, Logger } from '@nestjs/common';
import { apiKeySettingFor, maskKey, type ProviderId, type RequestKey } from '#libs/common';
import { KeyResolver, MissingApiKeyError, type ResolvedKey } from '#libs/byok';
import { PlanType } from '#libs/database';
import { AuthenticationError, type KeyContext } from '#libs/llm';
import { type ResolvedTenant, TenantResolver } from '#libs/tenancy';
import { KeyValidationService, ProviderChoice } from '#libs/tenant-llm';
import { PlanNotEligibleError } from './backfill.errors.js';

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
    private readonly keys: KeyResolver,
    private readonly providers: ProviderChoice,
    private readonly validation: KeyValidationService,
  ) {}

  /**
   * @throws WorkspaceNotFoundError, PlanNotEligibleError, MissingApiKeyError, PlatformKeyMissingError,
   *   AuthenticationError (placeholder or refused key), RateLimitedError / ProviderUnavailableError
   *   (the live check could not get an answer)
   */
  async check(workspaceId: string, requestKey?: RequestKey): Promise<PreflightResult> {
    const tenant = await this.tenants.resolve(workspaceId);
    this.logger.log({ workspaceId, tenantId: tenant.tenantId }, 'Resolved tenant_id from workspace_id');
    if (tenant.planType === PlanType.free) throw new PlanNotEligibleError(tenant.subdomain, tenant.planType);

    const provider = requestKey?.provider ?? (await this.providers.forTenant(tenant.tenantId));
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
    const verdict = await this.validation.checkForJob(tenant.tenantId, key, context);
    if (verdict.status === 'invalid') {
      throw new AuthenticationError(
        provider,
        `Skipping backfill: tenant ${tenant.subdomain} has no valid ${settingKey} (key ${maskKey(key.last4)}: ${verdict.reason ?? 'refused'}). Add a working key in Settings.`,
      );
    }
    return { tenant, provider, key, context };
  }
}

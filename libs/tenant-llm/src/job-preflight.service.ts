import { Injectable } from '@nestjs/common';
import { AppError, apiKeySettingFor, ErrorCode, maskKey, type ProviderId, type RequestKey } from '#libs/common';
import { KeyResolver, MissingApiKeyError, type ResolvedKey } from '#libs/byok';
import { PlanType } from '#libs/database';
import { AuthenticationError, type KeyContext, type TenantEndpoint } from '#libs/llm';
import type { TenantInfo } from '#libs/tenancy';
import { BudgetService } from '#libs/usage';
import { KeyValidationService } from './key-validation.service.js';
import { ProviderChoice } from './provider-choice.service.js';

/** What a job is, in the words its refusals use ("Skipping backfill: ..."). */
export type JobLabel = 'backfill' | 'AI job';

/** A plan without LLM work: no job of any kind runs, whatever key it would use. */
export class PlanNotEligibleError extends AppError {
  constructor(label: JobLabel, subdomain: string, plan: string) {
    super(
      ErrorCode.PlanNotEligible,
      `Skipping ${label}: tenant ${subdomain} is on the ${plan} plan, which has no knowledge-graph extraction. Upgrade to team or enterprise.`,
    );
  }
}

export interface JobPreflightRequest {
  label: JobLabel;
  /** The caller's own key for this job only (BYOK headers), opened from the queue. */
  requestKey?: RequestKey;
  /** A provider the job asked for (a provider id; anything else counts as none); else the tenant's GRAPHRAG_PROVIDER. A request key names its own. */
  provider?: string;
  /** The job, for its per-job budget cap. */
  jobId?: string;
}

export interface PreflightResult {
  provider: ProviderId;
  key: ResolvedKey;
  context: KeyContext;
  /** The tenant's model for the provider (`<PROVIDER>_MODEL`, else the default; Azure's deployment): every call of the job uses it. */
  model: string;
  /** Where a tenant-endpoint provider (azure-openai, custom-openai) answers, from the tenant's settings. */
  endpoint?: TenantEndpoint;
}

/**
 * The one pre-flight every job runs before it touches a provider or fetches a record (backfills and AI
 * jobs alike): the tenant's plan allows LLM work; a key exists under the key policy (request key,
 * else the tenant's own in byok mode or the platform's in managed mode, never another); it is no
 * placeholder (refused offline, without a call) and the provider accepts it (a live check, its verdict
 * cached by fingerprint and recorded on the tenant's setting). Every refusal is a typed,
 * non-retryable error whose message says how to fix it.
 */
@Injectable()
export class JobPreflight {
  constructor(
    private readonly keys: KeyResolver,
    private readonly providers: ProviderChoice,
    private readonly validation: KeyValidationService,
    private readonly budgets: BudgetService,
  ) {}

  /**
   * @throws PlanNotEligibleError, BudgetExceededError (a hard budget is spent), MissingApiKeyError, PlatformKeyMissingError,
   *   ProviderNotConfiguredError (a tenant endpoint without its URL or model), EndpointRefusedError (the egress policy refuses it), AuthenticationError
   *   (placeholder or refused key), ModelNotAvailableError (the provider does not list the tenant's model), RateLimitedError / ProviderUnavailableError (the live check could
   *   not get an answer)
   */
  async check(tenant: TenantInfo, request: JobPreflightRequest): Promise<PreflightResult> {
    const { label, requestKey } = request;
    if (tenant.planType === PlanType.free) throw new PlanNotEligibleError(label, tenant.subdomain, tenant.planType);
    // a spent hard budget refuses before any key is resolved or checked live: nothing is fetched, nothing is called
    await this.budgets.refuseWhenSpent(tenant.tenantId, request.jobId);

    const provider = requestKey?.provider ?? (await this.providers.forTenant(tenant.tenantId, request.provider));
    const settingKey = apiKeySettingFor(provider);
    let key: ResolvedKey;
    try {
      key = await this.keys.resolve({ tenantId: tenant.tenantId, provider, requestKey: requestKey?.key });
    } catch (error) {
      if (error instanceof MissingApiKeyError) {
        throw new MissingApiKeyError(
          provider,
          `Skipping ${label}: tenant ${tenant.subdomain} has no valid ${settingKey}. Add the key on the Provider keys page.`,
        );
      }
      throw error;
    }

    const context: KeyContext = { tenantLabel: tenant.subdomain, keyLast4: key.last4 };
    const { model, endpoint } = await this.providers.targetFor(tenant.tenantId, provider);
    const verdict = await this.validation.checkForJob(tenant.tenantId, key, context, model, endpoint);
    if (verdict.status === 'invalid') {
      throw new AuthenticationError(
        provider,
        `Skipping ${label}: tenant ${tenant.subdomain} has no valid ${settingKey} (key ${maskKey(key.last4)}: ${verdict.reason ?? 'refused'}). Add a working key on the Provider keys page.`,
      );
    }
    return { provider, key, context, model, endpoint };
  }
}

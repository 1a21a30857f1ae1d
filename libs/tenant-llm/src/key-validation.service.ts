import { Injectable } from '@nestjs/common';
import { apiKeySettingFor, ValidationFailedError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { ByokKeyStore, type ResolvedKey, SettingNotFoundError, settingDefinition } from '#libs/byok';
import { type Tx, ValidationStatus } from '#libs/database';
import { type KeyContext, type KeyVerdict, KeyValidator, type TenantEndpoint, withProviderRetry } from '#libs/llm';
import { Metrics } from '#libs/metrics';
import { AuditLog, type RequestActor, TenantResolver } from '#libs/tenancy';
import { WebhookPublisher } from '#libs/webhooks';
import { ProviderChoice } from './provider-choice.service.js';
import { providerRetryPolicy } from './retry-policy.js';

export interface ValidationOutcome {
  status: 'valid' | 'invalid';
  provider: string;
  checkedAt: Date;
}

/**
 * Asks the provider layer whether a key works (placeholders offline, otherwise one cheap live call,
 * cached by fingerprint) and records the verdict on the tenant's setting. It sits above libs/byok
 * and libs/llm so that key storage never calls a provider. A rate limit or outage is no verdict: it
 * propagates as its typed error and leaves the setting as it was.
 */
@Injectable()
export class KeyValidationService {
  constructor(
    private readonly store: ByokKeyStore,
    private readonly validator: KeyValidator,
    private readonly tenants: TenantResolver,
    private readonly config: AppConfig,
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
    private readonly webhooks: WebhookPublisher,
    private readonly providers: ProviderChoice,
  ) {}

  /**
   * Checks a tenant's stored provider key now and records the verdict. With an `actor` (every API
   * call) a `setting.validate` audit row (the key's fingerprint and last4, the verdict) is appended
   * right after the verdict is stored: the verdict is one guarded UPDATE after a provider call, so
   * there is no transaction to share, and a verdict without its row needs a crash in between.
   * The key is checked with the tenant's model for the provider (`<PROVIDER>_MODEL`, else the default).
   * A tenant endpoint's key is checked at the tenant's endpoint, through the egress policy.
   * @throws UnknownSettingKeyError, SettingNotFoundError, ValidationFailedError (not a provider key),
   *   ProviderNotConfiguredError (a tenant endpoint without its URL or model), EndpointRefusedError,
   *   ModelNotAvailableError (the provider does not list the tenant's model), RateLimitedError or
   *   ProviderUnavailableError (no verdict)
   */
  async validateStored(tenantId: string, settingKey: string, actor?: RequestActor): Promise<ValidationOutcome> {
    const definition = settingDefinition(settingKey);
    const provider = definition.provider;
    if (!provider) throw new ValidationFailedError(`${settingKey} is not a provider key`);
    const stored = await this.store.get(tenantId, settingKey);
    if (!stored) throw new SettingNotFoundError(settingKey);
    const tenant = await this.tenants.tenant(tenantId);
    const { model, endpoint } = await this.providers.targetFor(tenantId, provider);

    const verdict = await this.counted(provider, () =>
      this.validator.validate(provider, stored.key, stored.fingerprint, { tenantLabel: tenant.subdomain, keyLast4: stored.last4 }, model, endpoint),
    );
    const recorded = await this.store.recordValidation(
      tenantId,
      settingKey,
      stored.fingerprint,
      ValidationStatus[verdict.status],
      verdict.checkedAt,
      this.announceInvalid(tenantId, settingKey, provider, 'validation'),
    );
    if (actor) {
      const trace = { fingerprint: stored.fingerprint, last4: stored.last4 };
      await this.audit.record(tenantId, actor, {
        action: 'setting.validate',
        settingKey,
        before: trace,
        after: trace,
        details: { status: verdict.status, provider, recorded },
      });
    }
    return { status: verdict.status, provider, checkedAt: verdict.checkedAt };
  }

  /**
   * The verdict on the key a job is about to use, with the configured retries on 429 and 5xx; a
   * tenant's stored key gets the verdict recorded on its setting (request and platform keys have none).
   * @throws ModelNotAvailableError (the provider does not list `model`), RateLimitedError or ProviderUnavailableError once the retries are used up
   */
  async checkForJob(tenantId: string, key: ResolvedKey, context: KeyContext, model: string, endpoint?: TenantEndpoint): Promise<KeyVerdict> {
    const verdict = await this.counted(key.provider, () =>
      withProviderRetry(providerRetryPolicy(this.config), () =>
        this.validator.validate(key.provider, key.key, key.fingerprint, context, model, endpoint),
      ),
    );
    if (key.source === 'tenant') {
      await this.store.recordValidation(
        tenantId,
        apiKeySettingFor(key.provider),
        key.fingerprint,
        ValidationStatus[verdict.status],
        verdict.checkedAt,
        this.announceInvalid(tenantId, apiKeySettingFor(key.provider), key.provider, 'validation'),
      );
    }
    return verdict;
  }

  /** A verdict, counted in byok_key_validations_total by provider and verdict (`no_verdict` when none could be had). */
  private async counted(provider: string, validate: () => Promise<KeyVerdict>): Promise<KeyVerdict> {
    try {
      const verdict = await validate();
      this.metrics.keyValidation(provider, verdict.status);
      return verdict;
    } catch (error) {
      this.metrics.keyValidation(provider, 'no_verdict');
      throw error;
    }
  }

  /** A key the provider refused mid-job: its cached verdict goes, and a stored key is marked invalid so the next pre-flight stops at once. */
  async markRefused(tenantId: string, key: ResolvedKey): Promise<void> {
    this.validator.forget(key.provider, key.fingerprint);
    if (key.source !== 'tenant') return;
    const settingKey = apiKeySettingFor(key.provider);
    await this.store.recordValidation(
      tenantId,
      settingKey,
      key.fingerprint,
      ValidationStatus.invalid,
      new Date(),
      this.announceInvalid(tenantId, settingKey, key.provider, 'refused_by_provider'),
    );
  }

  /**
   * Writes `key.invalid` in the verdict's transaction when a stored key turns invalid: the setting,
   * its provider and how it was found out (`validation`: a check said so; `refused_by_provider`: a job's
   * call was refused). Never the key, its fingerprint or its last4.
   */
  private announceInvalid(tenantId: string, settingKey: string, provider: string, reason: 'validation' | 'refused_by_provider') {
    return (tx: Tx) => this.webhooks.publish(tenantId, 'key.invalid', { settingKey, provider, reason }, tx);
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { apiKeySettingFor, isTenantEndpointProvider, last4Of, maskKey, type ProviderId, settingPrefixFor } from '#libs/common';
import { AppConfig } from '#libs/config';
import { AiKeyMode } from '#libs/database';
import { TenantResolver } from '#libs/tenancy';
import { ByokKeyStore } from './byok-key-store.service.js';
import { MissingApiKeyError, PlatformKeyMissingError } from './byok.errors.js';
import { KeyFingerprinter } from './key-fingerprinter.js';

export type KeySource = 'request' | 'tenant' | 'platform';

export interface ResolvedKey {
  provider: ProviderId;
  key: string;
  source: KeySource;
  fingerprint: string;
  last4: string | null;
}

export interface KeyRequest {
  tenantId: string;
  provider: ProviderId;
  /** A key the caller sent with this request (BYOK headers); it wins over everything else. */
  requestKey?: string;
}

/**
 * The only way any code obtains a provider key. Policy, in order, with no fallback between steps:
 * the request's own key; else by the tenant's key mode, the tenant's stored key (byok) or the
 * platform key (managed); else a typed error. A byok tenant never reaches a platform key.
 */
@Injectable()
export class KeyResolver {
  private readonly logger = new Logger(KeyResolver.name);

  constructor(
    private readonly tenants: TenantResolver,
    private readonly store: ByokKeyStore,
    private readonly fingerprinter: KeyFingerprinter,
    private readonly config: AppConfig,
  ) {}

  async resolve({ tenantId, provider, requestKey }: KeyRequest): Promise<ResolvedKey> {
    const tenant = await this.tenants.tenant(tenantId);
    const settingKey = apiKeySettingFor(provider);
    let resolved: ResolvedKey;

    if (requestKey !== undefined) {
      resolved = this.fromPlainKey(provider, requestKey, 'request');
    } else if (tenant.aiKeyMode === AiKeyMode.byok) {
      const stored = await this.store.get(tenantId, settingKey);
      if (!stored) {
        throw new MissingApiKeyError(provider, `Tenant ${tenant.subdomain} has no ${settingKey}. Add the key on the Provider keys page.`);
      }
      resolved = { provider, key: stored.key, source: 'tenant', fingerprint: stored.fingerprint, last4: stored.last4 };
    } else {
      if (isTenantEndpointProvider(provider)) {
        // a tenant's own endpoint is reached with its own key alone: there is no platform key to fall back on
        throw new PlatformKeyMissingError(
          provider,
          `Tenant ${tenant.subdomain} uses managed keys, but ${provider} runs only with the tenant's own key and endpoint. Switch the tenant to byok keys and add ${settingKey}.`,
        );
      }
      const platformKey = this.config.platformKeys[provider];
      if (!platformKey) {
        throw new PlatformKeyMissingError(
          provider,
          `Tenant ${tenant.subdomain} uses managed keys, but no platform ${provider} key is configured (PLATFORM_${settingPrefixFor(provider)}_API_KEY).`,
        );
      }
      resolved = this.fromPlainKey(provider, platformKey, 'platform');
    }

    this.logger.log(
      { tenantId, provider, keySource: resolved.source, keyLast4: resolved.last4 },
      `Using ${describeSource(resolved.source, settingKey)} (${maskKey(resolved.last4)})`,
    );
    return resolved;
  }

  private fromPlainKey(provider: ProviderId, key: string, source: KeySource): ResolvedKey {
    return { provider, key, source, fingerprint: this.fingerprinter.fingerprint(key), last4: last4Of(key) };
  }
}

function describeSource(source: KeySource, settingKey: string): string {
  switch (source) {
    case 'request':
      return `request-scoped ${settingKey}`;
    case 'tenant':
      return `tenant's ${settingKey}`;
    case 'platform':
      return `platform ${settingKey}`;
  }
}

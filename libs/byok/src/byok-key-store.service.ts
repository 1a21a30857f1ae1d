import { Injectable } from '@nestjs/common';
import { apiKeySettingFor, last4Of } from '#libs/common';
import { type TenantSetting, TransactionService, type Tx, type ValidationStatus } from '#libs/database';
import { EgressPolicy } from '#libs/egress';
import { CacheInvalidationBus, InvalidatedCache } from '#libs/redis';
import { type AuditChange, AuditLog, type RequestActor } from '#libs/tenancy';
import { InvalidSettingValueError, SettingNotFoundError } from './byok.errors.js';
import { KeyCipher, settingContext } from './key-cipher.js';
import { KeyFingerprinter } from './key-fingerprinter.js';
import { normalizeSettingValue, type SettingDefinition, settingDefinition } from './setting-catalog.js';
import { TenantSettingsRepository } from './tenant-settings.repository.js';

/** What the outside world may see of a setting: never a secret's value. */
export interface MaskedSetting {
  key: string;
  isSecret: boolean;
  value?: string;
  last4: string | null;
  fingerprint: string | null;
  validationStatus: ValidationStatus;
  validatedAt: Date | null;
  updatedAt: Date;
}

export interface StoredKey {
  key: string;
  fingerprint: string;
  last4: string | null;
  validationStatus: ValidationStatus;
}

const SETTING_TOPIC = 'tenant-setting';

/**
 * The tenant's own settings and keys, and nothing else: it never reads the environment and has
 * no fallback. A missing row is `null`, full stop. Rows are cached encrypted and decrypted per read.
 */
@Injectable()
export class ByokKeyStore {
  // rows as stored (still encrypted), by tenant and setting key
  private readonly cache: InvalidatedCache<TenantSetting>;

  constructor(
    private readonly settings: TenantSettingsRepository,
    private readonly cipher: KeyCipher,
    private readonly fingerprinter: KeyFingerprinter,
    private readonly transactions: TransactionService,
    private readonly audit: AuditLog,
    private readonly egress: EgressPolicy,
    bus: CacheInvalidationBus,
  ) {
    this.cache = new InvalidatedCache(bus, SETTING_TOPIC, { max: 20_000, ttlMs: 30_000, cacheMisses: true });
  }

  /** The decrypted key (or plain value) of a setting, or null when the tenant has none. */
  async get(tenantId: string, settingKey: string): Promise<StoredKey | null> {
    const definition = settingDefinition(settingKey);
    const row = await this.row(tenantId, settingKey);
    if (!row) return null;
    if (!definition.secret || !row.isSecret) {
      return { key: row.value!, fingerprint: '', last4: null, validationStatus: row.validationStatus };
    }
    const key = this.cipher.decrypt(
      { ciphertext: row.ciphertext!, iv: row.iv!, authTag: row.authTag!, keyVersion: row.keyVersion! },
      settingContext(tenantId, settingKey),
      `Stored ${settingKey} of tenant ${tenantId}`,
    );
    return { key, fingerprint: row.fingerprint!, last4: row.last4, validationStatus: row.validationStatus };
  }

  /** A non-secret setting's value, or null. */
  async getPlain(tenantId: string, settingKey: string): Promise<string | null> {
    const definition = settingDefinition(settingKey);
    if (definition.secret) throw new Error(`${settingKey} is a secret; use get()`);
    const row = await this.row(tenantId, settingKey);
    return row?.value ?? null;
  }

  /**
   * Stores a setting (a secret encrypted, with its fingerprint and last4). With an `actor` (every API
   * call) the audit row `setting.put` (fingerprint and last4 before and after, never the key) commits
   * in the same transaction as the write.
   * A tenant endpoint's URL is stored as the egress policy normalized it, without a trailing slash.
   * @throws UnknownSettingKeyError, InvalidSettingValueError, EgressRefusedError (a URL the egress policy refuses)
   */
  async put(tenantId: string, settingKey: string, rawValue: unknown, actor?: RequestActor): Promise<MaskedSetting> {
    const definition = settingDefinition(settingKey);
    const value = this.checkedUrl(definition, normalizeSettingValue(definition, rawValue));
    const secret = definition.secret
      ? {
          ...this.cipher.encrypt(value, settingContext(tenantId, settingKey)),
          fingerprint: this.fingerprinter.fingerprint(value),
          last4: last4Of(value),
        }
      : null;
    const row = await this.transactions.run(async (tx) => {
      const before = actor ? await this.settings.find(tenantId, settingKey, tx) : null;
      const after = secret
        ? await this.settings.upsertSecret(tenantId, settingKey, secret, tx)
        : await this.settings.upsertPlain(tenantId, settingKey, value, tx);
      if (actor) await this.audit.record(tenantId, actor, settingChange('setting.put', settingKey, before, after), tx);
      if (definition.checkedWith && before?.value !== value)
        await this.settings.resetValidation(tenantId, apiKeySettingFor(definition.checkedWith), tx);
      return after;
    });
    await this.invalidate(tenantId, settingKey);
    if (definition.checkedWith) await this.invalidate(tenantId, apiKeySettingFor(definition.checkedWith));
    return mask(row);
  }

  /** A URL setting as it will be requested (EgressPolicy.checkUrl); any other value as it is. */
  private checkedUrl(definition: SettingDefinition, value: string): string {
    if (!definition.url) return value;
    const url = this.egress.checkUrl(value);
    // the SDKs append their paths to the base: a query or fragment would end up in the middle of them
    if (url.search || url.hash) throw new InvalidSettingValueError(definition.key, 'must not carry a query (?...) or fragment (#...)');
    return url.href.replace(/\/+$/, '');
  }

  /**
   * Deletes a setting; with an `actor`, its `setting.delete` audit row commits with the delete.
   * @throws UnknownSettingKeyError, SettingNotFoundError
   */
  async delete(tenantId: string, settingKey: string, actor?: RequestActor): Promise<void> {
    const definition = settingDefinition(settingKey);
    const deleted = await this.transactions.run(async (tx) => {
      const before = await this.settings.delete(tenantId, settingKey, tx);
      if (before && actor) await this.audit.record(tenantId, actor, settingChange('setting.delete', settingKey, before, null), tx);
      if (before && definition.checkedWith) await this.settings.resetValidation(tenantId, apiKeySettingFor(definition.checkedWith), tx);
      return before;
    });
    await this.invalidate(tenantId, settingKey);
    if (definition.checkedWith) await this.invalidate(tenantId, apiKeySettingFor(definition.checkedWith));
    if (!deleted) throw new SettingNotFoundError(settingKey);
  }

  async list(tenantId: string): Promise<MaskedSetting[]> {
    return (await this.settings.list(tenantId)).map(mask);
  }

  async getMasked(tenantId: string, settingKey: string): Promise<MaskedSetting> {
    settingDefinition(settingKey);
    const row = await this.settings.find(tenantId, settingKey);
    if (!row) throw new SettingNotFoundError(settingKey);
    return mask(row);
  }

  /**
   * Stores a validation verdict for the key with this fingerprint (a replaced key keeps its own).
   * `whenInvalidated` runs in the verdict's transaction when it turns a key invalid (not when it already was).
   */
  async recordValidation(
    tenantId: string,
    settingKey: string,
    fingerprint: string,
    status: ValidationStatus,
    at = new Date(),
    whenInvalidated?: (tx: Tx) => Promise<unknown>,
  ): Promise<boolean> {
    const updated = await this.settings.setValidation(tenantId, settingKey, fingerprint, status, at, whenInvalidated);
    await this.invalidate(tenantId, settingKey);
    return updated;
  }

  /** Drops a cached row in every process (after a write here or a rotation elsewhere). */
  invalidate(tenantId: string, settingKey: string): Promise<void> {
    return this.cache.invalidate(cacheKey(tenantId, settingKey));
  }

  private row(tenantId: string, settingKey: string): Promise<TenantSetting | null> {
    return this.cache.get(cacheKey(tenantId, settingKey), () => this.settings.find(tenantId, settingKey));
  }
}

function cacheKey(tenantId: string, settingKey: string): string {
  return `${tenantId}:${settingKey}`;
}

// a secret is named by fingerprint and last4 only; a plain setting's value (a provider id, checked by
// the catalog) is not a secret and goes in details
function settingChange(
  action: 'setting.put' | 'setting.delete',
  settingKey: string,
  before: TenantSetting | null,
  after: TenantSetting | null,
): AuditChange {
  const trace = (row: TenantSetting | null) => (row?.isSecret ? { fingerprint: row.fingerprint, last4: row.last4 } : null);
  const plain = (row: TenantSetting | null) => (row && !row.isSecret ? row.value : null);
  const secret = (before ?? after)?.isSecret ?? true;
  return {
    action,
    settingKey,
    before: trace(before),
    after: trace(after),
    details: secret ? {} : { valueBefore: plain(before), valueAfter: plain(after) },
  };
}

function mask(row: TenantSetting): MaskedSetting {
  return {
    key: row.settingKey,
    isSecret: row.isSecret,
    ...(row.isSecret ? {} : { value: row.value ?? undefined }),
    last4: row.last4,
    fingerprint: row.fingerprint,
    validationStatus: row.validationStatus,
    validatedAt: row.validatedAt,
    updatedAt: row.updatedAt,
  };
}

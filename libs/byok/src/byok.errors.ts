import { AppError, ErrorCode, NotFoundError, type ProviderId, ValidationFailedError } from '#libs/common';

/** A stored or sealed key that fails authentication: tampered, copied to another row, or an unknown master key. */
export class KeyDecryptionError extends AppError {
  constructor(what: string) {
    super(ErrorCode.KeyDecryptionFailed, `${what} cannot be decrypted: it was altered, moved, or sealed with an unknown master key version`);
  }
}

/**
 * The key policy found no key: a byok tenant has none stored for the provider. The job cannot run
 * and is never retried; nothing falls back to another key or provider.
 */
export class MissingApiKeyError extends AppError {
  constructor(
    readonly provider: ProviderId,
    message: string,
  ) {
    super(ErrorCode.NoApiKey, message);
  }
}

/** A managed tenant's job needs the platform key, and the environment has none for the provider. */
export class PlatformKeyMissingError extends AppError {
  constructor(
    readonly provider: ProviderId,
    message: string,
  ) {
    super(ErrorCode.PlatformKeyMissing, message);
  }
}

/**
 * A setting key outside the catalog. The key itself is never echoed: a tenant who pasted an API key
 * where the setting's name goes would see it reflected in the answer (and in any proxy's logs).
 */
export class UnknownSettingKeyError extends ValidationFailedError {
  constructor(knownKeys: readonly string[]) {
    super(`Unknown setting key; the settings are ${knownKeys.join(', ')}`, ErrorCode.UnknownSettingKey);
  }
}

export class InvalidSettingValueError extends ValidationFailedError {
  constructor(key: string, reason: string) {
    super(`Invalid value for ${key}: ${reason}`, ErrorCode.InvalidSettingValue);
  }
}

export class SettingNotFoundError extends NotFoundError {
  constructor(key: string) {
    super(`Setting ${key} is not set`, ErrorCode.SettingNotFound);
  }
}

import type { ProviderId } from '#libs/common';

/** A provider key as the limits know it: by fingerprint, never the key. */
export interface KeyRef {
  provider: ProviderId;
  fingerprint: string;
}

/** A key's configured allowance per minute; 0: no limit. */
export interface KeyLimits {
  rpm: number;
  tpm: number;
}

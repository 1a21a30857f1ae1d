import type { ProviderId } from './provider-id.js';

/**
 * A key the caller sent with one request (the BYOK headers): used for that request's job only,
 * never stored. It exists in memory in the API process and, opened, in the worker running the job.
 */
export interface RequestKey {
  provider: ProviderId;
  key: string;
}

/**
 * A request key as it may travel through Redis in a job's payload: AES-256-GCM sealed and bound to
 * one job id (see RequestKeySealer in libs/byok). Declared here so the queue's payload types need
 * no key storage code; base64 fields, never the key.
 */
export interface SealedRequestKey {
  provider: ProviderId;
  ciphertext: string;
  iv: string;
  authTag: string;
  keyVersion: string;
}

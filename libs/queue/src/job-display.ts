/** What a sealed request key is shown as wherever job data is displayed (the queue board). */
export const SEALED_KEY_SHOWN_AS = '[sealed request key: not shown]';

/**
 * A job's data as an operator may see it: a sealed request key (BYOK headers) is replaced by a
 * placeholder. It is ciphertext that opens only for its job, but nothing of a key is shown
 * anywhere; everything else in a payload is ids.
 */
export function jobDataForDisplay(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || !('sealedKey' in data)) return data;
  return { ...data, sealedKey: SEALED_KEY_SHOWN_AS };
}

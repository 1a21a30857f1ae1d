import { isProviderId, PROVIDER_IDS, type ProviderId } from '#libs/common';

/**
 * Parses `openai:sk-...,gemini:AIza...,deepseek:*` (SIMULATOR_VALID_KEYS). Errors name the entry's
 * position, never its text, because the text is a key.
 */
export function parseValidKeysSpec(spec: string): Partial<Record<ProviderId, string[]>> {
  const keys: Partial<Record<ProviderId, string[]>> = {};
  spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .forEach((entry, index) => {
      const separator = entry.indexOf(':');
      const provider = entry.slice(0, separator);
      const key = entry.slice(separator + 1).trim();
      if (separator <= 0 || !isProviderId(provider) || !key) {
        throw new Error(`Entry ${index + 1} of the valid keys must look like <${PROVIDER_IDS.join('|')}>:<key>`);
      }
      (keys[provider] ??= []).push(key);
    });
  return keys;
}

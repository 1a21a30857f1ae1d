import type { ProviderId } from '#libs/common';
import { PROVIDER_DEFAULTS } from './provider-registry.js';

/** Values people paste from samples and docs; compared case-insensitively. */
const SAMPLE_VALUES = new Set(['test', 'your-api-key', 'your_api_key', 'your-key-here', 'your_key_here', 'changeme']);

/**
 * Why a key is obviously not a real one, or undefined when it may be. Decided without a network
 * call, so a sample value never reaches a provider. The reason never quotes the key.
 */
export function placeholderReason(provider: ProviderId, key: string): string | undefined {
  const value = key.trim();
  if (!value) return 'empty key';
  const lower = value.toLowerCase();
  if (lower.startsWith('mock')) return 'placeholder key (mock value)';
  if (SAMPLE_VALUES.has(lower)) return 'placeholder key (sample value)';
  if (/^sk-x+$/i.test(value)) return 'placeholder key (sk-xxx)';
  // Anthropic's samples: sk-ant-xxx, sk-ant-api03-xxxx...
  if (/^sk-ant-(?:[a-z]+\d*-)?(?:x+|\.{3}|\*+)$/i.test(value)) return 'placeholder key (Anthropic sample value)';
  if (/^(.)\1*$/s.test(value)) return 'placeholder key (one repeated character)';
  const min = PROVIDER_DEFAULTS[provider].minKeyLength;
  if (value.length < min) return `too short for a ${provider} key (fewer than ${min} characters)`;
  return undefined;
}

export function isPlaceholderKey(provider: ProviderId, key: string): boolean {
  return placeholderReason(provider, key) !== undefined;
}

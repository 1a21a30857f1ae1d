import { describe, expect, it } from '@jest/globals';
import { ValidationFailedError } from '#libs/common';
import { parseByokHeaders } from './byok-headers.js';

describe(parseByokHeaders.name, () => {
  const key = 'sk-request-key-1234567890';

  it('answers no request key when both headers are absent or blank', () => {
    expect(parseByokHeaders({})).toBeUndefined();
    expect(parseByokHeaders({ 'x-user-provider': ' ', 'x-user-api-key': '' })).toBeUndefined();
  });

  it('reads and trims both headers, provider case-insensitively', () => {
    expect(parseByokHeaders({ 'x-user-provider': ' Gemini ', 'x-user-api-key': `  ${key}\t` })).toEqual({ provider: 'gemini', key });
  });

  it.each([
    ['only the provider', { 'x-user-provider': 'openai' }, 'BYOK_HEADERS_INCOMPLETE'],
    ['only the key', { 'x-user-api-key': key }, 'BYOK_HEADERS_INCOMPLETE'],
    ['an unknown provider', { 'x-user-provider': 'mistral', 'x-user-api-key': key }, 'BYOK_PROVIDER_UNKNOWN'],
    ['a key over 512 characters', { 'x-user-provider': 'openai', 'x-user-api-key': 'k'.repeat(513) }, 'BYOK_KEY_INVALID'],
    ['whitespace inside the key', { 'x-user-provider': 'openai', 'x-user-api-key': 'sk-abc def' }, 'BYOK_KEY_INVALID'],
    ['a control character inside the key', { 'x-user-provider': 'openai', 'x-user-api-key': 'sk-abc\u0001def' }, 'BYOK_KEY_INVALID'],
    ['a repeated header', { 'x-user-provider': 'openai', 'x-user-api-key': [key, key] }, 'BYOK_KEY_INVALID'],
  ])('refuses %s with %s and never echoes the key', (_, headers, code) => {
    try {
      parseByokHeaders(headers);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationFailedError);
      expect((error as ValidationFailedError).code).toBe(code);
      expect((error as Error).message).not.toContain('sk-');
    }
  });

  it('accepts a key of exactly 512 characters', () => {
    expect(parseByokHeaders({ 'x-user-provider': 'openai', 'x-user-api-key': 'k'.repeat(512) })?.key).toHaveLength(512);
  });
});

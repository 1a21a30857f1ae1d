import { describe, expect, it } from '@jest/globals';
import { isPlaceholderKey, placeholderReason } from './placeholder-keys.js';

describe('isPlaceholderKey', () => {
  it.each([
    ['openai', ''],
    ['openai', '   '],
    ['openai', 'mock-openai-key-0123456789abcdef'],
    ['gemini', 'MOCK_GEMINI_KEY_0123456789abcdef0123456789'],
    ['openai', 'test'],
    ['openai', 'TEST'],
    ['openai', 'your-api-key'],
    ['gemini', 'your_api_key'],
    ['deepseek', 'changeme'],
    ['openai', 'sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    ['deepseek', 'sk-XXXXXXXXXXXXXXXXXXXXXXXX'],
    ['openai', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['gemini', '000000000000000000000000000000000000000'],
    ['openai', 'sk-short-key-12345'],
    ['deepseek', 'sk-1234567890abcdef'],
    ['gemini', 'AIzaSyA-short-but-not-30ch'],
    ['anthropic', 'sk-ant-xxx'],
    ['anthropic', 'sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    ['anthropic', 'sk-ant-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'],
    ['anthropic', 'sk-ant-api03-...'],
    ['anthropic', 'your-key-here'],
    ['openai', 'YOUR-KEY-HERE'],
    ['anthropic', 'sk-ant-api03-0123456789abcdef'],
  ] as const)('%s key %j is a placeholder', (provider, key) => {
    expect(isPlaceholderKey(provider, key)).toBe(true);
    expect(placeholderReason(provider, key)).not.toContain(key.trim() || '\u0000');
  });

  it.each([
    ['openai', 'sk-proj-4f1b2c3d4e5f60718293a4b5'],
    ['deepseek', 'sk-0123456789abcdef0123'],
    ['gemini', 'AIzaSyD-0123456789abcdefghijklmnopq'],
    ['openai', 'sk-xxxxxxxxxxxxxxxxxxxxxxxxx1'],
    ['anthropic', 'sk-ant-api03-Zx9_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH-AA'],
  ] as const)('%s key %j may be real', (provider, key) => {
    expect(isPlaceholderKey(provider, key)).toBe(false);
  });

  it('applies each provider its own minimum length', () => {
    const twentyFive = 'k3y-0123456789abcdefghij1';
    expect(isPlaceholderKey('openai', twentyFive)).toBe(false);
    expect(isPlaceholderKey('gemini', twentyFive)).toBe(true);
    expect(placeholderReason('gemini', twentyFive)).toBe('too short for a gemini key (fewer than 30 characters)');
  });
});

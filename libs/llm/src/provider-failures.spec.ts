import { describe, expect, it } from '@jest/globals';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import { mapAnthropicError } from './anthropic-errors.js';
import { retryDelayFromDetails } from './gemini-errors.js';
import { ProviderUnavailableError } from './llm.errors.js';
import { ProviderFailures, retryAfterFromHeaders } from './provider-failures.js';

describe('retryAfterFromHeaders', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    [{ 'retry-after-ms': '1500' }, 1500],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after': '7' }, 7000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after': 'Thu, 01 Jan 2026 00:00:20 GMT' }, 20_000],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('%j -> %p', (headers, expected) => {
    expect(retryAfterFromHeaders(new Headers(headers as Record<string, string>), now)).toBe(expected);
  });
});

describe('retryDelayFromDetails', () => {
  it('reads google.rpc.RetryInfo', () => {
    const details = [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure' },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' },
    ];
    expect(retryDelayFromDetails(details)).toBe(7000);
    expect(retryDelayFromDetails([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.25s' }])).toBe(1250);
  });

  it('ignores anything else', () => {
    expect(retryDelayFromDetails(undefined)).toBeUndefined();
    expect(retryDelayFromDetails([{ retryDelay: '7s' }, 'x', null])).toBeUndefined();
  });
});

describe('ProviderFailures', () => {
  const failures = new ProviderFailures('openai', { tenantLabel: 'brennan', keyLast4: '4207' });

  it('words messages with provider, tenant and last4 only', () => {
    expect(failures.authentication().message).toBe('Failed to authenticate with openai for tenant brennan (key ...4207)');
    expect(failures.rateLimited(7000).message).toBe('Rate limited by openai for tenant brennan (key ...4207); retry after 7000 ms');
    expect(new ProviderFailures('gemini', { tenantLabel: 't', keyLast4: null }).authentication().message).toBe(
      'Failed to authenticate with gemini for tenant t (key (no key))',
    );
  });

  it.each([
    [401, 'AuthenticationError'],
    [403, 'AuthenticationError'],
    [429, 'RateLimitedError'],
    [500, 'ProviderUnavailableError'],
    [502, 'ProviderUnavailableError'],
    [408, 'ProviderUnavailableError'],
    [400, 'ProviderRequestError'],
    [404, 'ProviderRequestError'],
    [422, 'ProviderRequestError'],
  ])('maps HTTP %i to %s', (status, name) => {
    expect(failures.forStatus(status, undefined).name).toBe(name);
  });
});

describe('mapAnthropicError', () => {
  const failures = new ProviderFailures('anthropic', { tenantLabel: 'brennan', keyLast4: '4207' });
  /** An error as the SDK builds it from an answer: status, Anthropic's error body, headers. */
  const answered = (status: number, type: string, headers: Record<string, string> = {}) =>
    APIError.generate(status, { type: 'error', error: { type, message: 'invalid x-api-key sk-ant-api03-secret' } }, undefined, new Headers(headers));

  it.each([
    [401, 'authentication_error', 'AuthenticationError', false],
    [403, 'permission_error', 'AuthenticationError', false],
    [429, 'rate_limit_error', 'RateLimitedError', true],
    [529, 'overloaded_error', 'ProviderUnavailableError', true],
    [500, 'api_error', 'ProviderUnavailableError', true],
    [504, 'timeout_error', 'ProviderUnavailableError', true],
    [400, 'invalid_request_error', 'ProviderRequestError', false],
    [413, 'request_too_large', 'ProviderRequestError', false],
  ])('maps HTTP %i %s to a %s (retryable: %p), without the body text', (status, type, name, retryable) => {
    const error = mapAnthropicError(answered(status, type), failures);
    expect(error).toMatchObject({ name, retryable, provider: 'anthropic' });
    expect(error.message).not.toContain('x-api-key');
    expect(error.message).not.toContain('secret');
  });

  it('says overloaded for a 529, and honours retry-after on a 429', () => {
    expect(mapAnthropicError(answered(529, 'overloaded_error'), failures).message).toContain('HTTP 529 overloaded');
    expect(mapAnthropicError(answered(429, 'rate_limit_error', { 'retry-after': '12' }), failures)).toMatchObject({ retryAfterMs: 12_000 });
  });

  it('maps connection failures and timeouts to ProviderUnavailableError, anything else too', () => {
    expect(mapAnthropicError(new APIConnectionTimeoutError(), failures).message).toMatch(/: timed out$/);
    expect(mapAnthropicError(new APIConnectionError({ cause: new TypeError('fetch failed') }), failures).message).toMatch(/: connection failed$/);
    expect(mapAnthropicError(new Error('surprise'), failures)).toBeInstanceOf(ProviderUnavailableError);
  });
});

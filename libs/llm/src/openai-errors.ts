import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { LlmError } from './llm.errors.js';
import { type ProviderFailures, retryAfterFromHeaders } from './provider-failures.js';

/**
 * The one place an openai SDK failure (OpenAI or DeepSeek) becomes a typed error. The SDK's
 * message is dropped on purpose: for a 401 it quotes the (masked) key back.
 */
export function mapOpenAiError(error: unknown, failures: ProviderFailures): LlmError {
  if (error instanceof LlmError) return error;
  // these subclass APIError but carry no status: test them first
  if (error instanceof APIConnectionTimeoutError) return failures.unavailable('timed out');
  if (error instanceof APIUserAbortError) return failures.unavailable('request aborted');
  if (error instanceof APIConnectionError) return failures.unavailable('connection failed');
  if (error instanceof APIError && typeof error.status === 'number') {
    return failures.forStatus(error.status, retryAfterFromHeaders(error.headers as Headers | undefined));
  }
  return failures.unavailable('unexpected client failure');
}

import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { EgressRefusedError } from '#libs/egress';
import { EndpointRefusedError, LlmError } from './llm.errors.js';
import { AnswerTooLargeError } from './node-http-fetch.js';
import { type ProviderFailures, retryAfterFromHeaders } from './provider-failures.js';

/**
 * The one place an openai SDK failure (OpenAI, DeepSeek, Azure OpenAI, a tenant's endpoint) becomes a typed error. The SDK's
 * message is dropped on purpose: for a 401 it quotes the (masked) key back.
 */
export function mapOpenAiError(error: unknown, failures: ProviderFailures): LlmError {
  if (error instanceof LlmError) return error;
  // these subclass APIError but carry no status: test them first
  if (error instanceof APIConnectionTimeoutError) return failures.unavailable('timed out');
  if (error instanceof APIUserAbortError) return failures.unavailable('request aborted');
  // a tenant endpoint the egress policy refused (its URL, or the address it resolved to): nothing was sent
  if (error instanceof APIConnectionError && error.cause instanceof EgressRefusedError)
    return new EndpointRefusedError(failures.providerId, error.cause.message);
  if (error instanceof APIConnectionError && error.cause instanceof AnswerTooLargeError) return failures.unavailable('answer too large, not read');
  if (error instanceof APIConnectionError) return failures.unavailable(isAbort(error.cause) ? 'timed out' : 'connection failed');
  // Azure's prompt filter (https://learn.microsoft.com/azure/ai-services/openai/concepts/content-filter): this record's text, not the request
  if (error instanceof APIError && error.status === 400 && error.code === 'content_filter') return failures.blocked('content_filter');
  if (error instanceof APIError && typeof error.status === 'number') {
    return failures.forStatus(error.status, retryAfterFromHeaders(error.headers as Headers | undefined));
  }
  return failures.unavailable('unexpected client failure');
}

/**
 * Whether a connection failure was our own deadline aborting the request. No caller signal is ever
 * handed to the SDK, so an abort can only be its timeout. Told by name, as the error may come from
 * another realm (node:http, undici), where `instanceof` fails.
 */
function isAbort(cause: unknown): boolean {
  const name = typeof cause === 'object' && cause !== null && 'name' in cause ? cause.name : undefined;
  return name === 'AbortError' || name === 'TimeoutError';
}

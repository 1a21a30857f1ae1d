import {
  GoogleGenerativeAIAbortError,
  GoogleGenerativeAIError,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIRequestInputError,
  GoogleGenerativeAIResponseError,
} from '@google/generative-ai';
import { LlmError } from './llm.errors.js';
import { type ProviderFailures, retryAfterFromHeaders } from './provider-failures.js';

/** An error answer of the Gemini API, from the SDK or from our own fetch (key validation). */
export interface GoogleErrorReply {
  status: number;
  /** `error.details` of Google's error body. */
  details?: unknown;
  /** Only our own fetch has them: the SDK drops the response headers. */
  headers?: { get(name: string): string | null };
}

/**
 * The one place a Gemini failure becomes a typed error. The SDK's messages embed the request URL
 * (which carries the key when `?key=` is used) and the server's text: neither is kept.
 */
export function mapGeminiError(error: unknown, failures: ProviderFailures): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof GoogleGenerativeAIFetchError && typeof error.status === 'number') {
    return failureForGoogleReply({ status: error.status, details: error.errorDetails }, failures);
  }
  if (error instanceof GoogleGenerativeAIAbortError) return failures.unavailable('timed out');
  if (error instanceof GoogleGenerativeAIResponseError) return failures.rejected('response blocked or empty');
  if (error instanceof GoogleGenerativeAIRequestInputError) return failures.rejected('invalid request');
  // the SDK wraps fetch's network failures (refused, reset, DNS) in its base class
  if (error instanceof GoogleGenerativeAIError) return failures.unavailable('connection failed');
  // our own fetch (key validation): compared by name, as fetch's errors may come from another realm
  const name = nameOf(error);
  if (name === 'AbortError' || name === 'TimeoutError') return failures.unavailable('timed out');
  if (name === 'TypeError') return failures.unavailable('connection failed');
  return failures.unavailable('unexpected client failure');
}

function nameOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string' ? error.name : undefined;
}

export function failureForGoogleReply(reply: GoogleErrorReply, failures: ProviderFailures): LlmError {
  // Google answers a bad or expired key with 400 INVALID_ARGUMENT, not 401
  if (reply.status === 400 && hasReason(reply.details, 'API_KEY_INVALID')) return failures.authentication();
  if (reply.status === 429) {
    return failures.rateLimited(retryDelayFromDetails(reply.details) ?? retryAfterFromHeaders(reply.headers));
  }
  return failures.forStatus(reply.status, undefined);
}

function detailsOf(details: unknown): Record<string, unknown>[] {
  return Array.isArray(details) ? details.filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null) : [];
}

function hasReason(details: unknown, reason: string): boolean {
  return detailsOf(details).some((d) => d.reason === reason);
}

/** google.rpc.RetryInfo's `retryDelay`, a protobuf Duration in JSON form such as "7s" or "1.5s". */
export function retryDelayFromDetails(details: unknown): number | undefined {
  for (const d of detailsOf(details)) {
    if (typeof d['@type'] !== 'string' || !d['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const match = typeof d.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay) : null;
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  return undefined;
}

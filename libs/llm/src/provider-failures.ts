import { maskKey, type ProviderId } from '#libs/common';
import {
  AnswerBlockedError,
  AnswerRefusedError,
  AnswerTruncatedError,
  AnswerUnparsableError,
  AuthenticationError,
  type LlmError,
  ProviderRequestError,
  ProviderUnavailableError,
  RateLimitedError,
} from './llm.errors.js';
import type { KeyContext } from './llm-provider.js';

/**
 * Builds the typed errors with the only text they may carry: provider, tenant label, last4 and
 * our own words. SDK messages, URLs and headers stay out, because they can echo the key.
 */
export class ProviderFailures {
  constructor(
    private readonly provider: ProviderId,
    private readonly context: KeyContext,
  ) {}

  get providerId(): ProviderId {
    return this.provider;
  }

  private get who(): string {
    return `${this.provider} for tenant ${this.context.tenantLabel} (key ${maskKey(this.context.keyLast4)})`;
  }

  authentication(): AuthenticationError {
    return new AuthenticationError(this.provider, `Failed to authenticate with ${this.who}`);
  }

  rateLimited(retryAfterMs: number | undefined): RateLimitedError {
    const wait = retryAfterMs === undefined ? '' : `; retry after ${retryAfterMs} ms`;
    return new RateLimitedError(this.provider, `Rate limited by ${this.who}${wait}`, retryAfterMs);
  }

  /** `reason` is our own short wording (e.g. "HTTP 503", "timed out"), never an SDK message. */
  unavailable(reason: string): ProviderUnavailableError {
    return new ProviderUnavailableError(this.provider, `Provider unavailable: ${this.who}: ${reason}`);
  }

  rejected(reason: string): ProviderRequestError {
    return new ProviderRequestError(this.provider, `Request rejected by ${this.who}: ${reason}`);
  }

  /** A 200 that carries no answer (no choices or candidates, or an error object): worth another try. */
  noAnswer(reason: string): ProviderUnavailableError {
    return this.unavailable(`the answer carried ${reason}`);
  }

  refused(finishReason?: string): AnswerRefusedError {
    return new AnswerRefusedError(this.provider, `The ${this.provider} model refused to extract from this text`, finishReason);
  }

  /** `finishReason`: the provider's own word (SAFETY, RECITATION, content_filter, or a prompt's blockReason). */
  blocked(finishReason: string): AnswerBlockedError {
    return new AnswerBlockedError(this.provider, `${this.provider} blocked the content (${finishReason})`, finishReason);
  }

  truncated(finishReason: string): AnswerTruncatedError {
    return new AnswerTruncatedError(this.provider, `The ${this.provider} answer was cut off at the output limit (${finishReason})`, finishReason);
  }

  unparsable(finishReason?: string): AnswerUnparsableError {
    return new AnswerUnparsableError(this.provider, `The ${this.provider} answer was not JSON, even after repair`, finishReason);
  }

  /** The common HTTP status rules; provider-specific exceptions are decided before calling this. */
  forStatus(status: number, retryAfterMs: number | undefined): LlmError {
    if (status === 401 || status === 403) return this.authentication();
    if (status === 429) return this.rateLimited(retryAfterMs);
    // a redirect is never followed: it would carry the key's header to wherever Location points
    if (status >= 300 && status < 400) return this.unavailable(`HTTP ${status} redirect, not followed`);
    if (status >= 500 || status === 408) return this.unavailable(`HTTP ${status}`);
    return this.rejected(`HTTP ${status}`);
  }
}

interface HeaderLookup {
  get(name: string): string | null;
}

/** `retry-after-ms` (OpenAI's own), else `retry-after` as seconds or an HTTP date. */
export function retryAfterFromHeaders(headers: HeaderLookup | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

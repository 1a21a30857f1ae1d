import { UnusableAnswerError } from './llm.errors.js';
import type { TokenUsage } from './llm-provider.js';

/**
 * More tokens than any model takes or writes in one call (a billion): a count past it is a broken or
 * hostile server's (a tenant's own endpoint may send 1e19), not usage, and would overflow the sums.
 */
export const MAX_TOKENS_PER_CALL = 1_000_000_000;

/** Whether `n` is a token count a provider could have reported: a number from 0 to MAX_TOKENS_PER_CALL. */
export function isTokenCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= MAX_TOKENS_PER_CALL;
}

/**
 * The `usage` of a CompletionResult from a provider's prompt and answer token counts; none when the
 * provider reported neither (a count it left out is 0: Gemini omits `candidatesTokenCount` for an empty answer;
 * a count that is not a whole number from 0 to MAX_TOKENS_PER_CALL counts as left out).
 */
export function usageOf(input: unknown, output: unknown): { usage?: TokenUsage } {
  const count = (n: unknown) => (isTokenCount(n) ? Math.floor(n) : undefined);
  const inputTokens = count(input);
  const outputTokens = count(output);
  if (inputTokens === undefined && outputTokens === undefined) return {};
  return { usage: { inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0 } };
}

/**
 * Reads an answer with `read`; an answer it finds unusable (UnusableAnswerError: refused, blocked,
 * cut off, not JSON) carries the tokens the provider reported for it, since they were billed all the same.
 */
export function withUsageOnFailure<T>(reported: { usage?: TokenUsage }, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof UnusableAnswerError && reported.usage) error.usage = reported.usage;
    throw error;
  }
}

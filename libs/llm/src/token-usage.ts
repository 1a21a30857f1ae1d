import { UnusableAnswerError } from './llm.errors.js';
import type { TokenUsage } from './llm-provider.js';

/**
 * The `usage` of a CompletionResult from a provider's prompt and answer token counts; none when the
 * provider reported neither (a count it left out is 0: Gemini omits `candidatesTokenCount` for an empty answer).
 */
export function usageOf(input: unknown, output: unknown): { usage?: TokenUsage } {
  const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined);
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

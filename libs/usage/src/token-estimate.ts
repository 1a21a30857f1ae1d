import { costMicroUsd, type PriceTable } from '#libs/config';
import type { ProviderId } from '#libs/common';
import { EXTRACTION_JSON_SCHEMA, EXTRACTION_SYSTEM_PROMPT } from '#libs/graphrag';

/**
 * Characters every extraction call sends besides the record's text: the system prompt and the JSON
 * schema (in `response_format` for OpenAI, in the system instruction for Gemini and DeepSeek; both are
 * billed as prompt tokens), plus the sentence that introduces the schema.
 */
export const EXTRACTION_OVERHEAD_CHARS = EXTRACTION_SYSTEM_PROMPT.length + JSON.stringify(EXTRACTION_JSON_SCHEMA.schema).length + 100;

/** What some text would cost to extract, estimated. */
export interface TokenEstimate {
  estimatedInputTokens: number;
  estimatedOutputTokens: number;
  estimatedCostMicroUsd: number;
}

export interface EstimateInput {
  /** Characters of the records' text as the extractor sends it. */
  characters: number;
  /** Provider calls (chunks). */
  calls: number;
  provider: ProviderId;
  model: string;
  /** Characters per token (ESTIMATE_CHARS_PER_TOKEN: 4, OpenAI's rule of thumb for English text). */
  charsPerToken: number;
  /** Output tokens per input token: the workspace's own history when it has one, else ESTIMATE_OUTPUT_RATIO. */
  outputRatio: number;
  prices: PriceTable;
}

/**
 * Tokens and cost of extracting `characters` in `calls` calls: input = (text + per-call overhead) /
 * charsPerToken, rounded up; output = input x outputRatio, rounded up; cost by the price table.
 * The rule is a rough one (CJK text is nearer one token per character): the usage API shows what the
 * provider actually counted.
 */
export function estimateTokens(input: EstimateInput): TokenEstimate {
  const estimatedInputTokens = Math.ceil((input.characters + input.calls * EXTRACTION_OVERHEAD_CHARS) / input.charsPerToken);
  const estimatedOutputTokens = Math.ceil(estimatedInputTokens * input.outputRatio);
  return {
    estimatedInputTokens,
    estimatedOutputTokens,
    estimatedCostMicroUsd: costMicroUsd(input.prices, input.provider, input.model, estimatedInputTokens, estimatedOutputTokens),
  };
}

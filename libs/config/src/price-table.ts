import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PROVIDER_IDS, type ProviderId } from '#libs/common';

/** One model's list price in USD per million tokens, for the prompt (input) and the answer (output). */
export interface ModelPrice {
  inputUsdPerMTok: number;
  outputUsdPerMTok: number;
}

/** Prices per provider and model, dated: what a cost was computed with is known. */
export interface PriceTable {
  /** The day (YYYY-MM-DD) the prices were read from the providers' price pages. */
  pricesAsOf: string;
  prices: Readonly<Partial<Record<ProviderId, Readonly<Record<string, ModelPrice>>>>>;
}

/**
 * Defaults for the models the provider registry uses (libs/llm provider-registry.ts), standard
 * (not batch, not cached-input) list prices from https://openai.com/api/pricing,
 * https://ai.google.dev/gemini-api/docs/pricing and https://api-docs.deepseek.com/quick_start/pricing,
 * as read on `pricesAsOf`. Anthropic's `claude-haiku-4-5` is the list price it was launched at
 * (2025-10-15, https://www.anthropic.com/pricing: $1 input, $5 output per million tokens), later
 * than `pricesAsOf`. Operators override or extend them with PRICE_TABLE_FILE.
 */
export const DEFAULT_PRICE_TABLE: PriceTable = Object.freeze({
  pricesAsOf: '2025-02-28',
  prices: {
    openai: { 'gpt-4o-mini': { inputUsdPerMTok: 0.15, outputUsdPerMTok: 0.6 } },
    gemini: { 'gemini-2.0-flash': { inputUsdPerMTok: 0.1, outputUsdPerMTok: 0.4 } },
    deepseek: { 'deepseek-chat': { inputUsdPerMTok: 0.27, outputUsdPerMTok: 1.1 } },
    anthropic: { 'claude-haiku-4-5': { inputUsdPerMTok: 1, outputUsdPerMTok: 5 } },
  },
});

const price = z.object({ inputUsdPerMTok: z.number().min(0).max(100_000), outputUsdPerMTok: z.number().min(0).max(100_000) }).strict();

/** PRICE_TABLE_FILE's shape: `{ "pricesAsOf": "2026-11-01", "prices": { "openai": { "gpt-4o-mini": { "inputUsdPerMTok": 0.15, "outputUsdPerMTok": 0.6 } } } }`. */
export const priceTableFileSchema = z
  .object({
    pricesAsOf: z.iso.date(),
    prices: z.partialRecord(z.enum(PROVIDER_IDS), z.record(z.string().min(1).max(200), price)),
  })
  .strict();

/**
 * The price table: the defaults, with the models of PRICE_TABLE_FILE (when set) replacing or added
 * to them, dated by the file. Throws (an Error with one line saying what is wrong) on an unreadable or
 * invalid file; AppConfig turns it into a ConfigError.
 */
export function loadPriceTable(file: string | undefined): PriceTable {
  if (!file) return DEFAULT_PRICE_TABLE;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot be read as JSON (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
  const parsed = priceTableFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue.path.join('.') || 'the file'}: ${issue.message}`);
  }
  const prices: Partial<Record<ProviderId, Record<string, ModelPrice>>> = {};
  for (const provider of PROVIDER_IDS) {
    prices[provider] = { ...DEFAULT_PRICE_TABLE.prices[provider], ...parsed.data.prices[provider] };
  }
  return Object.freeze({ pricesAsOf: parsed.data.pricesAsOf, prices });
}

/**
 * Cost of tokens in micro-USD: USD per million tokens times tokens is exactly micro-USD, rounded to
 * the nearest integer. A model the table does not know costs 0 (and is still counted in tokens).
 */
/** Whether the table has a price for the model: one it lacks costs 0 (costMicroUsd), which an estimate must say. */
export function isPriced(table: PriceTable, provider: ProviderId, model: string): boolean {
  return table.prices[provider]?.[model] !== undefined;
}

export function costMicroUsd(table: PriceTable, provider: ProviderId, model: string, inputTokens: number, outputTokens: number): number {
  const p = table.prices[provider]?.[model];
  if (!p) return 0;
  return Math.round(inputTokens * p.inputUsdPerMTok + outputTokens * p.outputUsdPerMTok);
}

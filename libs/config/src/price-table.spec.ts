import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig, ConfigError } from './app-config.js';
import { costMicroUsd, DEFAULT_PRICE_TABLE } from './price-table.js';

const key = () => randomBytes(32).toString('base64');
const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/app',
  BYOK_MASTER_KEYS: `v1:${key()}`,
  BYOK_ACTIVE_KEY_VERSION: 'v1',
  BYOK_FINGERPRINT_KEY: key(),
  ...extra,
});

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'price-table-')), 'prices.json');
  writeFileSync(path, content);
  return path;
}

describe('price table (PRICE_TABLE_FILE)', () => {
  it('defaults to the dated table of the registry models, and prices tokens in micro-USD', () => {
    const config = AppConfig.fromEnv(env());
    expect(config.usage.prices).toBe(DEFAULT_PRICE_TABLE);
    expect(Object.keys(config.usage.prices.prices)).toEqual(['openai', 'gemini', 'deepseek', 'anthropic']);
    // $0.15 and $0.60 per million tokens: 1,000 in and 500 out are 150 + 300 micro-USD
    expect(costMicroUsd(DEFAULT_PRICE_TABLE, 'openai', 'gpt-4o-mini', 1_000, 500)).toBe(450);
    expect(costMicroUsd(DEFAULT_PRICE_TABLE, 'openai', 'a-model-nobody-priced', 1_000, 500)).toBe(0);
    // Anthropic's default model, $1 and $5 per million tokens: 1,000 in and 500 out are 1,000 + 2,500 micro-USD
    expect(costMicroUsd(DEFAULT_PRICE_TABLE, 'anthropic', 'claude-haiku-4-5', 1_000, 500)).toBe(3_500);
    expect(config.usage).toMatchObject({ reservationTtlMs: 900_000, charsPerToken: 4, outputRatio: 0.25 });
  });

  it("merges the file's models over the defaults, dated by the file", () => {
    const path = file(
      JSON.stringify({
        pricesAsOf: '2026-11-01',
        prices: { openai: { 'gpt-4o-mini': { inputUsdPerMTok: 1, outputUsdPerMTok: 2 }, 'gpt-5': { inputUsdPerMTok: 3, outputUsdPerMTok: 4 } } },
      }),
    );
    const { prices } = AppConfig.fromEnv(env({ PRICE_TABLE_FILE: path })).usage;
    expect(prices.pricesAsOf).toBe('2026-11-01');
    expect(prices.prices.openai).toEqual({
      'gpt-4o-mini': { inputUsdPerMTok: 1, outputUsdPerMTok: 2 },
      'gpt-5': { inputUsdPerMTok: 3, outputUsdPerMTok: 4 },
    });
    expect(prices.prices.gemini).toEqual(DEFAULT_PRICE_TABLE.prices.gemini);
  });

  it.each([
    ['not JSON', '{ nope', /PRICE_TABLE_FILE cannot be read as JSON/],
    ['no date', JSON.stringify({ prices: {} }), /PRICE_TABLE_FILE pricesAsOf/],
    ['an unknown provider', JSON.stringify({ pricesAsOf: '2026-11-01', prices: { mistral: {} } }), /PRICE_TABLE_FILE prices/],
    [
      'a negative price',
      JSON.stringify({ pricesAsOf: '2026-11-01', prices: { openai: { m: { inputUsdPerMTok: -1, outputUsdPerMTok: 1 } } } }),
      /inputUsdPerMTok/,
    ],
    ['an unknown field', JSON.stringify({ pricesAsOf: '2026-11-01', prices: {}, currency: 'EUR' }), /PRICE_TABLE_FILE/],
  ])('refuses a file with %s in one line', (_case, content, message) => {
    expect(() => AppConfig.fromEnv(env({ PRICE_TABLE_FILE: file(content) }))).toThrow(ConfigError);
    expect(() => AppConfig.fromEnv(env({ PRICE_TABLE_FILE: file(content) }))).toThrow(message);
  });

  it('refuses a file that is not there', () => {
    expect(() => AppConfig.fromEnv(env({ PRICE_TABLE_FILE: '/nonexistent/prices.json' }))).toThrow(/PRICE_TABLE_FILE cannot be read/);
  });
});

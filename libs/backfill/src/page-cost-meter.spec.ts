import { describe, expect, it } from '@jest/globals';
import { DEFAULT_PRICE_TABLE, type UsageSettings } from '#libs/config';
import { recordText } from '#libs/graphrag';
import { EXTRACTION_OVERHEAD_CHARS } from '#libs/usage';
import { PageCostMeter } from './page-cost-meter.js';

const settings: UsageSettings = { prices: DEFAULT_PRICE_TABLE, reservationTtlMs: 60_000, charsPerToken: 4, outputRatio: 0.25 };
const record = (body: string) => ({ id: 'r', fromAddr: 'a@example.test', toAddr: 'b@example.test', ccAddr: '', subject: 'Hello', body });

describe(PageCostMeter.name, () => {
  it('estimates a page by the estimate rule: text and prompt per chunk over characters per token, output by the ratio', () => {
    const meter = new PageCostMeter('openai', 'gpt-4o-mini', settings, 0.5);
    const records = [record('Alice met Bob.'), record('x '.repeat(5_000))];
    const characters = records.reduce((sum, r) => sum + recordText(r).length, 0);
    // the long record is three chunks of at most 4,000 characters, the short one one
    const input = Math.ceil((characters + 4 * EXTRACTION_OVERHEAD_CHARS) / 4);
    const output = Math.ceil(input * 0.5);
    const { spend, rawInput } = meter.estimate(records);
    expect(rawInput).toBe(input);
    expect(spend).toEqual({ tokens: BigInt(input + output), microUsd: BigInt(Math.round(input * 0.15 + output * 0.6)) });
  });

  it('corrects itself with what committed pages really used', () => {
    const meter = new PageCostMeter('openai', 'gpt-4o-mini', settings, 0.25);
    const page = [record('Alice met Bob at Acme Corp about the renewal.')];
    const first = meter.estimate(page);
    // the provider counted half the input estimated, and as much output as input
    const actualInput = Math.round(first.rawInput / 2);
    meter.observe(first.rawInput, actualInput, actualInput);
    const next = meter.estimate(page);
    const input = Math.ceil(first.rawInput * (actualInput / first.rawInput));
    expect(next.spend.tokens).toBe(BigInt(input + input));
  });
});

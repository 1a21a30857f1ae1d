import type { z } from 'zod';
import { EXAMPLE } from '../http/example-values.js';
import type { budgetStatusView, usageView } from './usage.dto.js';

/** Example answers of the usage and budget routes (documentation only; checked against their views at load). */
export const usageExample: z.output<typeof usageView> = {
  from: '2026-03-01',
  to: '2026-03-03',
  groupBy: 'day',
  items: [
    { key: '2026-03-01', calls: 40, inputTokens: 48_200, outputTokens: 8_100, costMicroUsd: 12_090 },
    { key: '2026-03-02', calls: 1_240, inputTokens: 1_482_000, outputTokens: 251_300, costMicroUsd: 373_080 },
  ],
  totals: { calls: 1_280, inputTokens: 1_530_200, outputTokens: 259_400, costMicroUsd: 385_170 },
};

export const budgetStatusExample: z.output<typeof budgetStatusView> = {
  budget: { monthlyLimitUsd: 50, monthlyLimitTokens: null, mode: 'hard', perJobLimitUsd: 5, updatedAt: EXAMPLE.createdAt },
  period: '2026-03',
  spent: { costMicroUsd: 385_170, tokens: 1_789_600 },
};

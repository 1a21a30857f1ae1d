import { z } from 'zod';
import { MAX_USAGE_RANGE_DAYS } from '#libs/usage';

const day = (name: string, description: string, fallback: () => string) =>
  z
    .string({ error: `${name} must be a single string` })
    .pipe(z.iso.date({ error: `${name} must be an ISO 8601 date such as 2026-11-01` }))
    // ISO 8601's year 0000 (1 BC) has no Postgres date: it would reach the query and fail there
    .refine((value) => !value.startsWith('0000-'), { error: `${name} must be in year 0001 or later` })
    .default(fallback)
    .meta({ description });

const today = () => new Date().toISOString().slice(0, 10);
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
const monthStart = () => `${today().slice(0, 7)}-01`;

export const usageQuery = z
  .strictObject({
    from: day('from', 'First UTC day included (default: the first day of this month)', monthStart),
    to: day('to', 'UTC day the range ends before, excluded (default: tomorrow)', tomorrow),
    groupBy: z
      .enum(['day', 'provider', 'model', 'job'], { error: 'groupBy must be one of day, provider, model, job' })
      .default('day')
      .meta({ description: 'day (UTC), provider, model (provider/model) or job (the 1,000 costliest)' }),
  })
  .refine((q) => q.from < q.to, { error: 'to must be a day after from (to is exclusive)', path: ['to'] })
  .refine((q) => (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 <= MAX_USAGE_RANGE_DAYS, {
    error: `the range may span at most ${MAX_USAGE_RANGE_DAYS} days`,
    path: ['to'],
  });
export type UsageQueryParams = z.output<typeof usageQuery>;

const totals = {
  calls: z.number().int().meta({ description: 'Provider calls (attempts)' }),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costMicroUsd: z.number().int().meta({ description: 'Cost in micro-USD (1,000,000 = 1 USD), by the price table at the time of the calls' }),
};

export const usageView = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(['day', 'provider', 'model', 'job']),
  items: z.array(z.object({ key: z.string().meta({ description: 'The day, provider, provider/model or job id' }), ...totals })),
  totals: z.object(totals),
});

const usd = (name: string) =>
  z
    .number({ error: `${name} must be a number of USD` })
    .positive({ error: `${name} must be more than 0`, abort: true })
    // stored in micro-USD: less than one would round to a limit of 0
    .min(0.000001, { error: `${name} must be at least 0.000001 (one micro-USD)` })
    .max(1_000_000_000, { error: `${name} must be at most 1,000,000,000` })
    .optional();

export const putBudgetBody = z
  .strictObject({
    monthlyLimitUsd: usd('monthlyLimitUsd').meta({ description: 'Monthly limit in USD (calendar months, UTC); or monthlyLimitTokens' }),
    monthlyLimitTokens: z
      .number({ error: 'monthlyLimitTokens must be a whole number' })
      .int({ error: 'monthlyLimitTokens must be a whole number' })
      .positive({ error: 'monthlyLimitTokens must be more than 0' })
      .max(1e15, { error: 'monthlyLimitTokens must be at most 1e15' })
      .optional(),
    mode: z
      .enum(['alert', 'hard'], { error: 'mode must be alert or hard' })
      .meta({ description: 'hard stops jobs at the limit; alert only records thresholds' }),
    perJobLimitUsd: usd('perJobLimitUsd').meta({ description: 'A cap per job in USD (hard mode)' }),
  })
  .refine((b) => (b.monthlyLimitUsd === undefined) !== (b.monthlyLimitTokens === undefined), {
    error: 'give exactly one of monthlyLimitUsd and monthlyLimitTokens',
    path: ['monthlyLimitUsd'],
  });
export type PutBudgetBody = z.output<typeof putBudgetBody>;

export const budgetStatusView = z.object({
  budget: z
    .object({
      monthlyLimitUsd: z.number().nullable(),
      monthlyLimitTokens: z.number().int().nullable(),
      mode: z.enum(['alert', 'hard']),
      perJobLimitUsd: z.number().nullable(),
      updatedAt: z.date(),
    })
    .nullable()
    .meta({ description: 'null when the tenant has no budget' }),
  period: z.string().meta({ description: 'The current period: the calendar month in UTC, YYYY-MM', example: '2026-11' }),
  spent: z.object({ costMicroUsd: z.number().int(), tokens: z.number().int() }).meta({ description: 'What the period has spent so far' }),
});

import { z } from 'zod';

/** `{ code, message }` of a failed job or request. */
export const failureView = z.object({ code: z.string().meta({ example: 'NO_API_KEY' }), message: z.string() });

/** Where a job's key came from (never the key). */
export const keySourceView = z.enum(['request', 'tenant', 'platform']);

/** What a job's provider calls used, as the provider reported it, priced by the price table at the time. */
export const jobUsageView = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costMicroUsd: z.number().int().meta({ description: 'Cost in micro-USD (1,000,000 = 1 USD)' }),
  model: z.string().nullable().meta({ description: 'The model the calls used; null before the first call' }),
});

import { z } from 'zod';

// Postgres bigint (int8) ends here; a larger cursor would fail in the database instead of as a 400
const MAX_SEQ = 2n ** 63n - 1n;

/**
 * A keyset cursor over a `seq` column, as the API hands it out (`nextCursor`): a decimal bigint.
 * Anything else, or past Postgres's int8, is a 400 that says to start again.
 */
export function seqCursor() {
  const message = 'cursor is not one this API returned; start again without it';
  return z
    .string({ error: 'cursor must be a single string' })
    .regex(/^\d{1,19}$/, { error: message })
    .transform(BigInt)
    .refine((seq) => seq <= MAX_SEQ, { error: message })
    .optional()
    .meta({ description: 'nextCursor of the previous page' });
}

/** A page size from the query string: an integer from 1 to `max`, `fallback` when absent. */
export function pageLimit(max: number, fallback: number, items: string) {
  const range = `limit must be from 1 to ${max}`;
  return z
    .string({ error: 'limit must be an integer' })
    .regex(/^\d+$/, { error: 'limit must be an integer' })
    .refine((digits) => digits.length <= 9, { error: range })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: range }).max(max, { error: range }))
    .default(fallback)
    .meta({ description: `${items} per page, from 1 to ${max} (default ${fallback})` });
}

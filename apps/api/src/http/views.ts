import { z } from 'zod';

/** `{ code, message }` of a failed job or request. */
export const failureView = z.object({ code: z.string().meta({ example: 'NO_API_KEY' }), message: z.string() });

/** Where a job's key came from (never the key). */
export const keySourceView = z.enum(['request', 'tenant', 'platform']);

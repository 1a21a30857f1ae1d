import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import { AUDIT_ACTIONS } from '#libs/tenancy';
import { pageLimit } from '../http/page-query.js';

export const AUDIT_PAGE_MAX_LIMIT = 100;

// RFC 3339 date-times with an offset (Z or ±hh:mm), as the API writes them
const instant = (name: string, description: string) =>
  z
    .string({ error: `${name} must be a single string` })
    .pipe(z.iso.datetime({ offset: true, error: `${name} must be an ISO 8601 date-time such as 2026-11-30T03:00:00Z` }))
    .transform((text) => new Date(text))
    .optional()
    .meta({ description });

export const auditQuery = z
  .strictObject({
    cursor: z
      .string({ error: 'cursor must be a single string' })
      .max(128, { error: 'cursor is not one this API returned; start again without it' })
      .optional()
      .meta({ description: 'nextCursor of the previous page' }),
    limit: pageLimit(AUDIT_PAGE_MAX_LIMIT, 50, 'Events'),
    action: z.enum(AUDIT_ACTIONS, { error: `action must be one of ${AUDIT_ACTIONS.join(', ')}` }).optional(),
    from: instant('from', 'Only events at or after this time'),
    to: instant('to', 'Only events before this time'),
  })
  .refine((query) => !query.from || !query.to || query.from < query.to, { error: 'from must be before to', path: ['from'] });
export type AuditQueryParams = z.output<typeof auditQuery>;

const keyTraceView = z
  .object({ fingerprint: z.string().nullable(), last4: z.string().nullable() })
  .nullable()
  .meta({ description: 'A secret setting as fingerprint (HMAC-SHA256) and last4; never the key' });

export const auditEventView = z.object({
  id: uuidSchema(),
  occurredAt: z.date(),
  actor: z.object({
    kind: z.enum(['platform', 'tenant_token']),
    tokenId: uuidSchema().nullable(),
    label: z.string().meta({ example: 'platform admin' }),
  }),
  action: z.enum(AUDIT_ACTIONS),
  settingKey: z.string().nullable().meta({ example: 'OPENAI_API_KEY' }),
  before: keyTraceView,
  after: keyTraceView,
  clientAddress: z.string().nullable().meta({ example: '203.0.113.7' }),
  userAgent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).meta({ description: 'Ids, names and verdicts of the change; never a key' }),
});

export const auditPageView = z.object({
  items: z.array(auditEventView).meta({ description: 'Newest first' }),
  nextCursor: z.string().nullable(),
});

import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import { type WorkspaceDeletion, WorkspaceDeletionStatus } from '#libs/database';
import { DELETED_KINDS } from '#libs/deletion';
import { RECORD_SOURCES } from '#libs/records';
import { failureView } from '../http/views.js';

/** A record's external id in a path: as ingest stores it (trimmed, 1 to 512 characters, no NUL). */
export const externalIdParam = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(512, { error: 'must be at most 512 characters' })
  .refine((s) => !s.includes('\u0000'), { error: 'must not contain NUL characters' });

export const recordDeletionQuery = z.strictObject({
  source: z
    .enum(RECORD_SOURCES, { error: `source must be one of ${RECORD_SOURCES.join(', ')}` })
    .optional()
    .meta({ description: 'The source the record came from; without it, the externalId is deleted in every source' }),
});
export type RecordDeletionQuery = z.output<typeof recordDeletionQuery>;

export const recordDeletionView = z.object({
  records: z.number().int().meta({ description: 'Records deleted (one per source that held the externalId)' }),
  mentions: z.number().int(),
  entities: z.number().int().meta({ description: 'Entities no remaining record mentions, deleted with the record' }),
  relationships: z.number().int().meta({ description: 'Relationships of those entities, deleted with them' }),
  recordFailures: z.number().int().meta({ description: "Backfill failures stored for the record, taken out of those backfills' counters" }),
});

export const workspaceDeletionQuery = z.strictObject({
  cancelActive: z
    .enum(['true', 'false'], { error: 'cancelActive must be true or false' })
    .default('false')
    .transform((v) => v === 'true')
    .meta({ description: "Cancel the workspace's active backfills first instead of answering 409" }),
});
export type WorkspaceDeletionQuery = z.output<typeof workspaceDeletionQuery>;

export const workspaceDeletionView = z.object({
  id: uuidSchema(),
  workspaceId: uuidSchema(),
  tenantId: uuidSchema(),
  status: z.enum(WorkspaceDeletionStatus),
  deleted: z
    .object(Object.fromEntries(DELETED_KINDS.map((kind) => [kind, z.number().int()])) as Record<(typeof DELETED_KINDS)[number], z.ZodNumber>)
    .meta({ description: 'Rows deleted so far, per kind; `workspaces` is 1 once the workspace row itself is gone' }),
  failure: failureView.nullable(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});
export type WorkspaceDeletionView = z.output<typeof workspaceDeletionView>;

export function toWorkspaceDeletionView(deletion: WorkspaceDeletion): WorkspaceDeletionView {
  const stored = (deletion.deleted ?? {}) as Record<string, unknown>;
  return {
    id: deletion.id,
    workspaceId: deletion.workspaceId,
    tenantId: deletion.tenantId,
    status: deletion.status,
    deleted: Object.fromEntries(DELETED_KINDS.map((kind) => [kind, Number(stored[kind] ?? 0)])) as WorkspaceDeletionView['deleted'],
    failure: deletion.failureCode ? { code: deletion.failureCode, message: deletion.failureMessage ?? '' } : null,
    createdAt: deletion.createdAt,
    startedAt: deletion.startedAt,
    finishedAt: deletion.finishedAt,
  };
}

import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import { type Backfill, BackfillStatus } from '#libs/database';
import { RECORD_SOURCES } from '#libs/records';
import { failureView, keySourceView } from '../http/views.js';

export const startBackfillBody = z
  .strictObject({
    source: z
      .enum(RECORD_SOURCES, { error: `source must be one of ${RECORD_SOURCES.join(', ')}` })
      .default('api')
      .meta({ description: 'Which of the workspace records to read' }),
  })
  // a start without a body reads the API's records, as `{}` does
  .default({ source: 'api' });
export type StartBackfillBody = z.output<typeof startBackfillBody>;

export const backfillStartedView = z.object({ jobId: uuidSchema() });

export const backfillView = z.object({
  id: uuidSchema(),
  workspaceId: uuidSchema(),
  source: z.enum(RECORD_SOURCES),
  status: z.enum(BackfillStatus),
  failure: failureView.nullable(),
  counters: z.object({
    recordsFetched: z.number().int(),
    recordsProcessed: z.number().int(),
    entities: z.number().int().meta({ description: 'Entities this backfill added to the graph' }),
    relationships: z.number().int().meta({ description: 'Relationships this backfill added to the graph' }),
  }),
  provider: z.string().nullable(),
  keySource: keySourceView.nullable(),
  keyLast4: z.string().nullable(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});
export type BackfillView = z.output<typeof backfillView>;

export function toBackfillView(backfill: Backfill): BackfillView {
  return {
    id: backfill.id,
    workspaceId: backfill.workspaceId,
    source: backfill.source as BackfillView['source'],
    status: backfill.status,
    failure: backfill.failureCode ? { code: backfill.failureCode, message: backfill.failureMessage ?? '' } : null,
    counters: {
      recordsFetched: backfill.recordsFetched,
      recordsProcessed: backfill.recordsProcessed,
      entities: backfill.entities,
      relationships: backfill.relationships,
    },
    provider: backfill.provider,
    keySource: backfill.keySource as BackfillView['keySource'],
    keyLast4: backfill.keyLast4,
    createdAt: backfill.createdAt,
    startedAt: backfill.startedAt,
    finishedAt: backfill.finishedAt,
  };
}

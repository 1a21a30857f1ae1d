import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import { type Backfill, BackfillStatus } from '#libs/database';
import { ALL_SOURCES, RECORD_SCOPES } from '#libs/records';
import { pageLimit, seqCursor } from '../http/page-query.js';
import { type JobUsage, jobUsageOr } from '#libs/usage';
import { failureView, jobUsageView, keySourceView } from '../http/views.js';

export const startBackfillBody = z
  .strictObject({
    source: z
      .enum(RECORD_SCOPES, { error: `source must be one of ${RECORD_SCOPES.join(', ')}` })
      .default(ALL_SOURCES)
      .meta({ description: 'Which of the workspace records to read: one source, or "all" of them (the default)' }),
    fromStart: z.boolean({ error: 'fromStart must be true or false' }).default(false).meta({
      description: 'Read every record again, even when the last backfill failed or was cancelled part-way (default: resume from its checkpoint)',
    }),
  })
  // a start without a body reads every source, as `{}` does
  .default({ source: ALL_SOURCES, fromStart: false });
export type StartBackfillBody = z.output<typeof startBackfillBody>;

export const backfillStartedView = z.object({
  jobId: uuidSchema(),
  resumedFrom: uuidSchema()
    .nullable()
    .meta({ description: 'The failed or cancelled backfill whose checkpoint this one continues from; records it committed are not sent again' }),
});

export const backfillView = z.object({
  id: uuidSchema(),
  workspaceId: uuidSchema(),
  tenantId: uuidSchema().meta({ description: 'The tenant that ran it (the workspace owner when it started)' }),
  source: z.enum(RECORD_SCOPES).meta({ description: 'The source it read, or "all" of them' }),
  status: z.enum(BackfillStatus),
  failure: failureView.nullable(),
  counters: z.object({
    recordsFetched: z.number().int(),
    recordsProcessed: z.number().int().meta({ description: 'Records handled, failed ones included' }),
    recordsFailed: z.number().int().meta({
      description:
        'Records whose answer could not be used (refused, blocked, truncated, not JSON): see /failures; a succeeded backfill may have some',
    }),
    itemsDropped: z.number().int().meta({ description: 'Single entities or relationships a model returned that did not fit the schema, left out' }),
    entities: z.number().int().meta({ description: 'Entities this backfill added to the graph' }),
    relationships: z.number().int().meta({ description: 'Relationships this backfill added to the graph' }),
  }),
  provider: z.string().nullable(),
  keySource: keySourceView.nullable(),
  keyLast4: z.string().nullable(),
  usage: jobUsageView,
  retryOf: uuidSchema().nullable().meta({ description: 'The backfill whose failed records this one retries' }),
  resumedFrom: uuidSchema().nullable().meta({ description: 'The failed or cancelled backfill whose checkpoint this one started from' }),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});
export type BackfillView = z.output<typeof backfillView>;

export function toBackfillView(backfill: Backfill, usage?: JobUsage): BackfillView {
  return {
    id: backfill.id,
    workspaceId: backfill.workspaceId,
    tenantId: backfill.tenantId,
    source: backfill.source as BackfillView['source'],
    status: backfill.status,
    failure: backfill.failureCode ? { code: backfill.failureCode, message: backfill.failureMessage ?? '' } : null,
    counters: {
      recordsFetched: backfill.recordsFetched,
      recordsProcessed: backfill.recordsProcessed,
      recordsFailed: backfill.recordsFailed,
      itemsDropped: backfill.itemsDropped,
      entities: backfill.entities,
      relationships: backfill.relationships,
    },
    provider: backfill.provider,
    keySource: backfill.keySource as BackfillView['keySource'],
    keyLast4: backfill.keyLast4,
    usage: jobUsageOr(usage),
    retryOf: backfill.retryOfId,
    resumedFrom: backfill.resumedFromId,
    createdAt: backfill.createdAt,
    startedAt: backfill.startedAt,
    finishedAt: backfill.finishedAt,
  };
}

export const FAILURES_PAGE_MAX_LIMIT = 500;

export const failuresQuery = z.strictObject({
  cursor: seqCursor(),
  limit: pageLimit(FAILURES_PAGE_MAX_LIMIT, 100, 'Failures'),
});
export type FailuresQuery = z.output<typeof failuresQuery>;

export const failuresView = z.object({
  items: z.array(
    z.object({
      recordId: uuidSchema(),
      externalId: z.string(),
      subject: z.string(),
      code: z.string().meta({ example: 'EXTRACTION_REFUSED' }),
      reason: z.string(),
      finishReason: z.string().nullable().meta({ description: "The provider's own word for how the answer ended" }),
      attempts: z.number().int().meta({ description: 'Times the record was tried, retries included' }),
      createdAt: z.date(),
    }),
  ),
  summary: z.array(z.object({ code: z.string(), count: z.number().int() })).meta({ description: 'Failed records per code, most common first' }),
  nextCursor: z.string().nullable(),
});
export type FailuresView = z.output<typeof failuresView>;

export const backfillEstimateView = z.object({
  records: z.number().int().meta({ description: 'Records the backfill would read (after the checkpoint when it would resume)' }),
  characters: z.number().int().meta({ description: 'Characters of the text the extractor would send, the prompt not included' }),
  calls: z.number().int().meta({ description: 'Provider calls at the least: one per chunk of each record' }),
  estimatedInputTokens: z.number().int(),
  estimatedOutputTokens: z.number().int(),
  estimatedCostMicroUsd: z.number().int().meta({ description: 'micro-USD (1,000,000 = 1 USD)' }),
  provider: z.string().meta({ description: 'The provider assumed: the BYOK header, else the tenant GRAPHRAG_PROVIDER, else openai' }),
  model: z.string().meta({ description: "The tenant's <PROVIDER>_MODEL setting, else the provider's default model" }),
  priced: z.boolean().meta({ description: 'False when the price table has no price for the model: estimatedCostMicroUsd is then 0' }),
  pricesAsOf: z.string().meta({ description: 'The date of the price table' }),
  resumedFrom: uuidSchema().nullable(),
  outputRatioFrom: z.enum(['history', 'default']).meta({ description: "Output tokens from the workspace's past backfills, or the configured ratio" }),
});

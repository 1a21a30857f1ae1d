import { EXAMPLE } from '../http/example-values.js';
import type { BackfillView, FailuresView } from './backfill.dto.js';

/** Example answers of the backfill routes (documentation only; checked against their views at load). */
export const backfillStartedExample = { jobId: EXAMPLE.jobId, resumedFrom: null };

export const backfillExample: BackfillView = {
  id: EXAMPLE.jobId,
  workspaceId: EXAMPLE.workspaceId,
  tenantId: EXAMPLE.tenantId,
  source: 'all',
  status: 'succeeded',
  failure: null,
  counters: { recordsFetched: 1200, recordsProcessed: 1200, recordsFailed: 3, itemsDropped: 7, entities: 842, relationships: 1315 },
  provider: 'openai',
  keySource: 'tenant',
  keyLast4: 'a1b2',
  usage: { inputTokens: 1_482_000, outputTokens: 251_300, costMicroUsd: 373_080, model: 'gpt-4o-mini' },
  retryOf: null,
  resumedFrom: null,
  createdAt: EXAMPLE.createdAt,
  startedAt: EXAMPLE.startedAt,
  finishedAt: EXAMPLE.finishedAt,
};

export const failuresExample: FailuresView = {
  items: [
    {
      recordId: EXAMPLE.recordId,
      externalId: 'msg-20260301-0042',
      subject: 'Re: delivery schedule for March',
      code: 'EXTRACTION_REFUSED',
      reason: 'The model refused to answer',
      finishReason: 'content_filter',
      attempts: 2,
      createdAt: EXAMPLE.finishedAt,
    },
  ],
  summary: [{ code: 'EXTRACTION_REFUSED', count: 3 }],
  nextCursor: null,
};

export const backfillEstimateExample = {
  records: 1200,
  characters: 2_850_000,
  calls: 1240,
  estimatedInputTokens: 1_480_000,
  estimatedOutputTokens: 250_000,
  estimatedCostMicroUsd: 372_000,
  provider: 'openai',
  model: 'gpt-4o-mini',
  priced: true,
  pricesAsOf: '2026-02-01',
  resumedFrom: null,
  outputRatioFrom: 'history' as const,
};

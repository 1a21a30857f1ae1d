import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { type BackfillEstimate, BackfillEstimator, BackfillService } from '#libs/backfill';
import { ErrorCode, type RequestKey } from '#libs/common';
import type { TenantScope } from '#libs/tenancy';
import { UsageService } from '#libs/usage';
import { CurrentScope } from '../auth/scope.js';
import { ApiByokHeaders, RequestScopedKey } from '../byok/byok-headers.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody, ValidQuery } from '../http/zod-validation.js';
import {
  backfillEstimateView,
  backfillStartedView,
  type BackfillView,
  backfillView,
  type FailuresQuery,
  failuresQuery,
  type FailuresView,
  failuresView,
  type StartBackfillBody,
  startBackfillBody,
  toBackfillView,
} from './backfill.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { EXAMPLE } from '../http/example-values.js';
import { backfillEstimateExample, backfillExample, backfillStartedExample, failuresExample } from './backfill.examples.js';

@ApiTags('backfills')
@ApiBearerAuth()
@Controller('v1')
export class BackfillsController {
  constructor(
    private readonly backfills: BackfillService,
    private readonly usage: UsageService,
    private readonly estimator: BackfillEstimator,
  ) {}

  /** What a backfill started with the same body would read and cost (tokens and micro-USD), before starting it; no key needed. */
  @Post('workspaces/:workspaceId/backfills/estimate')
  @ApiOperation({
    summary: 'Estimate a backfill',
    description:
      'What a backfill started with the same body would read and cost (calls, tokens, micro-USD by the price table), from the checkpoint it would resume from; ' +
      'no key is needed and nothing is started. `priced: false` when the price table lacks the model.',
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound)
  @HttpCode(200)
  @ApiByokHeaders()
  @ApiSuccess(200, backfillEstimateView, backfillEstimateExample)
  async estimate(
    @CurrentScope() scope: TenantScope,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(startBackfillBody, { source: 'all', fromStart: false }) body: StartBackfillBody,
  ): Promise<BackfillEstimate> {
    return this.estimator.estimate(scope, workspaceId, body.source, { fromStart: body.fromStart, provider: requestKey?.provider });
  }

  @Post('workspaces/:workspaceId/backfills')
  @ApiOperation({
    summary: 'Start a backfill',
    description:
      "Queues extraction of the workspace's records (one source or all, or its mailbox with `imap`) into its knowledge graph, with the owner's key " +
      "(or the BYOK headers' key for this job only). The key pre-flight runs in the job: a missing or refused key fails the job before any record is read. " +
      'After a failed or cancelled backfill the new one resumes from its checkpoint unless `fromStart`.',
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.ImapSourceNotFound, ErrorCode.BackfillAlreadyActive, ErrorCode.QueueUnavailable)
  @HttpCode(202)
  @ApiByokHeaders()
  @ApiSuccess(202, backfillStartedView, backfillStartedExample, 'Queued; watch it with GET /v1/backfills/{jobId}')
  async start(
    @CurrentScope() scope: TenantScope,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(startBackfillBody, { source: 'api', fromStart: false }) body: StartBackfillBody,
  ): Promise<{ jobId: string; resumedFrom: string | null }> {
    const backfill = await this.backfills.start(scope, workspaceId, body.source, { requestKey, fromStart: body.fromStart });
    return { jobId: backfill.id, resumedFrom: backfill.resumedFromId };
  }

  @Get('workspaces/:workspaceId/backfills')
  @ApiOperation({ summary: "List a workspace's backfills", description: 'Each with its status, counters, key source and usage.' })
  @ApiErrors(ErrorCode.WorkspaceNotFound)
  @ApiSuccess(200, z.object({ items: z.array(backfillView) }), { items: [backfillExample] })
  async list(@CurrentScope() scope: TenantScope, @UuidParam('workspaceId') workspaceId: string): Promise<{ items: BackfillView[] }> {
    const backfills = await this.backfills.list(scope, workspaceId);
    const usage = await this.usage.perJobOf(backfills);
    return { items: backfills.map((b) => toBackfillView(b, usage.get(b.id))) };
  }

  @Get('backfills/:jobId')
  @ApiOperation({
    summary: 'Get a backfill',
    description:
      "Status, failure { code, message }, counters, provider, key source and last4 (never the key), usage. Another tenant's answers 404 as a missing one.",
  })
  @ApiErrors(ErrorCode.BackfillNotFound)
  @ApiSuccess(200, backfillView, backfillExample)
  async get(@CurrentScope() scope: TenantScope, @UuidParam('jobId') jobId: string): Promise<BackfillView> {
    const backfill = await this.backfills.get(scope, jobId);
    return toBackfillView(backfill, (await this.usage.perJob(backfill.tenantId, [backfill.id])).get(backfill.id));
  }

  /** The records a backfill could not extract, in record order, with why; never the text or the answer. */
  @Get('backfills/:jobId/failures')
  @ApiOperation({
    summary: "List a backfill's failed records",
    description:
      'The records it could not extract, in record order, with the code and reason, and a summary per code; never the text or the answer. Keyset paginated.',
  })
  @ApiErrors(ErrorCode.BackfillNotFound)
  @ApiSuccess(200, failuresView, failuresExample)
  async failures(
    @CurrentScope() scope: TenantScope,
    @UuidParam('jobId') jobId: string,
    @ValidQuery(failuresQuery) query: FailuresQuery,
  ): Promise<FailuresView> {
    const page = await this.backfills.failuresOf(scope, jobId, { afterSeq: query.cursor, limit: query.limit });
    return {
      items: page.items.map(({ recordSeq: _seq, ...item }) => item),
      summary: page.summary,
      nextCursor: page.nextSeq === null ? null : page.nextSeq.toString(),
    };
  }

  /** A new backfill of only this one's failed records (202 { jobId }); 409 when it has none, or while a backfill is active. */
  @Post('backfills/:jobId/retry-failed')
  @ApiOperation({
    summary: "Retry a backfill's failed records",
    description:
      'A new backfill of only the records this one could not extract. 409 when it has none, while a backfill is active, or when the workspace moved to another tenant.',
  })
  @ApiErrors(
    ErrorCode.BackfillNotFound,
    ErrorCode.BackfillNothingToRetry,
    ErrorCode.BackfillAlreadyActive,
    ErrorCode.WorkspaceTransferred,
    ErrorCode.QueueUnavailable,
  )
  @HttpCode(202)
  @ApiByokHeaders()
  @ApiSuccess(202, backfillStartedView, { jobId: EXAMPLE.secondJobId, resumedFrom: null }, 'Queued')
  async retryFailed(
    @CurrentScope() scope: TenantScope,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @UuidParam('jobId') jobId: string,
  ): Promise<{ jobId: string; resumedFrom: string | null }> {
    const retry = await this.backfills.retryFailed(scope, jobId, requestKey);
    return { jobId: retry.id, resumedFrom: null };
  }

  @Post('backfills/:jobId/cancel')
  @ApiOperation({
    summary: 'Cancel a backfill',
    description: 'The pages in flight commit, then it ends `cancelled`; a later start resumes from its checkpoint. 409 once it has ended.',
  })
  @ApiErrors(ErrorCode.BackfillNotFound, ErrorCode.BackfillNotCancellable)
  @ApiAcceptedResponse({ description: 'Cancellation asked for; the backfill ends cancelled shortly' })
  @HttpCode(202)
  async cancel(@CurrentScope() scope: TenantScope, @UuidParam('jobId') jobId: string): Promise<void> {
    await this.backfills.cancel(scope, jobId);
  }
}

import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { type BackfillEstimate, BackfillEstimator, BackfillService } from '#libs/backfill';
import type { RequestKey } from '#libs/common';
import type { TenantScope } from '#libs/tenancy';
import { UsageService } from '#libs/usage';
import { CurrentScope } from '../auth/scope.js';
import { ApiByokHeaders, RequestScopedKey } from '../byok/byok-headers.js';
import { openApiSchema, UuidParam, ValidBody, ValidQuery } from '../http/zod-validation.js';
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
  @HttpCode(200)
  @ApiByokHeaders()
  @ApiOkResponse({ schema: openApiSchema(backfillEstimateView, 'output') })
  async estimate(
    @CurrentScope() scope: TenantScope,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(startBackfillBody) body: StartBackfillBody,
  ): Promise<BackfillEstimate> {
    return this.estimator.estimate(scope, workspaceId, body.source, { fromStart: body.fromStart, provider: requestKey?.provider });
  }

  @Post('workspaces/:workspaceId/backfills')
  @HttpCode(202)
  @ApiByokHeaders()
  @ApiAcceptedResponse({
    schema: openApiSchema(backfillStartedView, 'output'),
    description:
      '409 BACKFILL_ALREADY_ACTIVE when one is queued or running. After a failed or cancelled backfill, the new one resumes from its checkpoint unless fromStart is true.',
  })
  async start(
    @CurrentScope() scope: TenantScope,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(startBackfillBody) body: StartBackfillBody,
  ): Promise<{ jobId: string; resumedFrom: string | null }> {
    const backfill = await this.backfills.start(scope, workspaceId, body.source, { requestKey, fromStart: body.fromStart });
    return { jobId: backfill.id, resumedFrom: backfill.resumedFromId };
  }

  @Get('workspaces/:workspaceId/backfills')
  @ApiOkResponse({ schema: openApiSchema(z.object({ items: z.array(backfillView) }), 'output') })
  async list(@CurrentScope() scope: TenantScope, @UuidParam('workspaceId') workspaceId: string): Promise<{ items: BackfillView[] }> {
    const backfills = await this.backfills.list(scope, workspaceId);
    const usage = await this.usage.perJobOf(backfills);
    return { items: backfills.map((b) => toBackfillView(b, usage.get(b.id))) };
  }

  @Get('backfills/:jobId')
  @ApiOkResponse({ schema: openApiSchema(backfillView, 'output') })
  async get(@CurrentScope() scope: TenantScope, @UuidParam('jobId') jobId: string): Promise<BackfillView> {
    const backfill = await this.backfills.get(scope, jobId);
    return toBackfillView(backfill, (await this.usage.perJob(backfill.tenantId, [backfill.id])).get(backfill.id));
  }

  /** The records a backfill could not extract, in record order, with why; never the text or the answer. */
  @Get('backfills/:jobId/failures')
  @ApiOkResponse({ schema: openApiSchema(failuresView, 'output') })
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
  @HttpCode(202)
  @ApiByokHeaders()
  @ApiAcceptedResponse({
    schema: openApiSchema(backfillStartedView, 'output'),
    description: '409 BACKFILL_NOTHING_TO_RETRY or BACKFILL_ALREADY_ACTIVE',
  })
  async retryFailed(
    @CurrentScope() scope: TenantScope,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @UuidParam('jobId') jobId: string,
  ): Promise<{ jobId: string; resumedFrom: string | null }> {
    const retry = await this.backfills.retryFailed(scope, jobId, requestKey);
    return { jobId: retry.id, resumedFrom: null };
  }

  @Post('backfills/:jobId/cancel')
  @HttpCode(202)
  async cancel(@CurrentScope() scope: TenantScope, @UuidParam('jobId') jobId: string): Promise<void> {
    await this.backfills.cancel(scope, jobId);
  }
}

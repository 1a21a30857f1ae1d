import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { BackfillService } from '#libs/backfill';
import type { RequestKey } from '#libs/common';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { WorkspaceAccess } from '../auth/workspace-access.js';
import { ApiByokHeaders, RequestScopedKey } from '../byok/byok-headers.js';
import { openApiSchema, UuidParam, ValidBody } from '../http/zod-validation.js';
import { backfillStartedView, type BackfillView, backfillView, type StartBackfillBody, startBackfillBody, toBackfillView } from './backfill.dto.js';

@ApiTags('backfills')
@ApiBearerAuth()
@Controller('v1')
export class BackfillsController {
  constructor(
    private readonly backfills: BackfillService,
    private readonly access: WorkspaceAccess,
  ) {}

  @Post('workspaces/:workspaceId/backfills')
  @HttpCode(202)
  @ApiByokHeaders()
  @ApiAcceptedResponse({
    schema: openApiSchema(backfillStartedView, 'output'),
    description: '409 BACKFILL_ALREADY_ACTIVE when one is queued or running',
  })
  async start(
    @CurrentPrincipal() principal: Principal,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(startBackfillBody) body: StartBackfillBody,
  ): Promise<{ jobId: string }> {
    await this.access.resolve(principal, workspaceId);
    const backfill = await this.backfills.start(workspaceId, body.source, requestKey);
    return { jobId: backfill.id };
  }

  @Get('workspaces/:workspaceId/backfills')
  @ApiOkResponse({ schema: openApiSchema(z.object({ items: z.array(backfillView) }), 'output') })
  async list(@CurrentPrincipal() principal: Principal, @UuidParam('workspaceId') workspaceId: string): Promise<{ items: BackfillView[] }> {
    await this.access.resolve(principal, workspaceId);
    return { items: (await this.backfills.list(workspaceId)).map(toBackfillView) };
  }

  @Get('backfills/:jobId')
  @ApiOkResponse({ schema: openApiSchema(backfillView, 'output') })
  async get(@CurrentPrincipal() principal: Principal, @UuidParam('jobId') jobId: string): Promise<BackfillView> {
    return toBackfillView(await this.backfills.get(jobId, tenantScope(principal)));
  }

  @Post('backfills/:jobId/cancel')
  @HttpCode(202)
  async cancel(@CurrentPrincipal() principal: Principal, @UuidParam('jobId') jobId: string): Promise<void> {
    await this.backfills.cancel(jobId, tenantScope(principal));
  }
}

function tenantScope(principal: Principal): string | null {
  return principal.kind === 'tenant' ? principal.tenantId : null;
}

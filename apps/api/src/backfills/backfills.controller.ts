import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { BackfillService } from '#libs/backfill';
import type { RequestKey } from '#libs/common';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { WorkspaceAccess } from '../auth/workspace-access.js';
import { ApiByokHeaders, RequestScopedKey } from '../byok/byok-headers.js';
import { uuidParam } from '../http/validation.js';
import { BackfillStartedView, BackfillView, StartBackfillDto } from './backfill.dto.js';

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
  @ApiAcceptedResponse({ type: BackfillStartedView, description: '409 BACKFILL_ALREADY_ACTIVE when one is queued or running' })
  async start(
    @CurrentPrincipal() principal: Principal,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @Param('workspaceId', uuidParam('workspaceId')) workspaceId: string,
    @Body() body: StartBackfillDto,
  ): Promise<BackfillStartedView> {
    await this.access.resolve(principal, workspaceId);
    const job = await this.backfills.start(workspaceId, body.source ?? 'api', requestKey);
    return { jobId: job.id };
  }

  @Get('workspaces/:workspaceId/backfills')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('workspaceId', uuidParam('workspaceId')) workspaceId: string,
  ): Promise<{ items: BackfillView[] }> {
    await this.access.resolve(principal, workspaceId);
    return { items: (await this.backfills.list(workspaceId)).map(BackfillView.of) };
  }

  @Get('backfills/:jobId')
  @ApiOkResponse({ type: BackfillView })
  async get(@CurrentPrincipal() principal: Principal, @Param('jobId', uuidParam('jobId')) jobId: string): Promise<BackfillView> {
    return BackfillView.of(await this.backfills.get(jobId, tenantScope(principal)));
  }

  @Post('backfills/:jobId/cancel')
  @HttpCode(202)
  async cancel(@CurrentPrincipal() principal: Principal, @Param('jobId', uuidParam('jobId')) jobId: string): Promise<void> {
    await this.backfills.cancel(jobId, tenantScope(principal));
  }
}

function tenantScope(principal: Principal): string | null {
  return principal.kind === 'tenant' ? principal.tenantId : null;
}

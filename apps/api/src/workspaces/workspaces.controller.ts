import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { WorkspaceTransferService } from '#libs/backfill';
import { type RequestActor, type TenantScope, WorkspaceService } from '#libs/tenancy';
import { CurrentActor, PlatformOnly } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { openApiSchema, UuidParam, ValidBody, ValidQuery } from '../http/zod-validation.js';
import {
  type CreateWorkspaceBody,
  createWorkspaceBody,
  toWorkspaceView,
  type TransferWorkspaceBody,
  transferWorkspaceBody,
  type TransferWorkspaceQuery,
  transferWorkspaceQuery,
  type WorkspaceView,
  workspaceView,
} from '../tenants/tenant.dto.js';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('v1')
export class WorkspacesController {
  constructor(
    private readonly workspaces: WorkspaceService,
    private readonly transfers: WorkspaceTransferService,
  ) {}

  @Post('tenants/:tenantId/workspaces')
  @ApiCreatedResponse({ schema: openApiSchema(workspaceView, 'output') })
  async create(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidBody(createWorkspaceBody) body: CreateWorkspaceBody,
  ): Promise<WorkspaceView> {
    return toWorkspaceView(await this.workspaces.create(scope, tenantId, body.name));
  }

  @Get('tenants/:tenantId/workspaces')
  @ApiOkResponse({ schema: openApiSchema(z.object({ items: z.array(workspaceView) }), 'output') })
  async list(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<{ items: WorkspaceView[] }> {
    return { items: (await this.workspaces.list(scope, tenantId)).map(toWorkspaceView) };
  }

  /**
   * Moves a workspace to another tenant (platform admin only); every process's tenant cache hears
   * of it. 409 TRANSFER_BLOCKED_BY_ACTIVE_JOB while a backfill is active, unless `?cancelActive=true`.
   */
  @Post('workspaces/:workspaceId/transfer')
  @PlatformOnly()
  @HttpCode(200)
  @ApiOkResponse({ schema: openApiSchema(workspaceView, 'output'), description: '409 TRANSFER_BLOCKED_BY_ACTIVE_JOB while a backfill is active' })
  async transfer(
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(transferWorkspaceBody) body: TransferWorkspaceBody,
    @ValidQuery(transferWorkspaceQuery) query: TransferWorkspaceQuery,
    @CurrentActor() actor: RequestActor,
  ): Promise<WorkspaceView> {
    return toWorkspaceView(await this.transfers.transfer(workspaceId, body.tenantId, { cancelActive: query.cancelActive, actor }));
  }
}

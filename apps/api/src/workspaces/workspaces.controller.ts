import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { WorkspaceTransferService } from '#libs/backfill';
import { ErrorCode } from '#libs/common';
import { type RequestActor, type TenantScope, WorkspaceService } from '#libs/tenancy';
import { CurrentActor, PlatformOnly } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody, ValidQuery } from '../http/zod-validation.js';
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
import { ApiSuccess } from '../http/api-success.js';
import { transferredWorkspaceExample, workspaceExample } from '../tenants/tenant.examples.js';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('v1')
export class WorkspacesController {
  constructor(
    private readonly workspaces: WorkspaceService,
    private readonly transfers: WorkspaceTransferService,
  ) {}

  @Post('tenants/:tenantId/workspaces')
  @ApiOperation({
    summary: 'Create a workspace',
    description: 'A workspace holds records, their knowledge graph, backfills and a mailbox; it belongs to one tenant.',
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(201, workspaceView, workspaceExample)
  async create(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidBody(createWorkspaceBody, { name: 'Support inbox' }) body: CreateWorkspaceBody,
  ): Promise<WorkspaceView> {
    return toWorkspaceView(await this.workspaces.create(scope, tenantId, body.name));
  }

  @Get('tenants/:tenantId/workspaces')
  @ApiOperation({ summary: "List a tenant's workspaces", description: 'Workspaces whose deletion was asked for are left out.' })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, z.object({ items: z.array(workspaceView) }), { items: [workspaceExample] })
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
  @ApiOperation({
    summary: 'Move a workspace to another tenant',
    description:
      "Platform admin only. Every process's tenant cache hears of it, and both tenants' audit logs record it. " +
      '409 TRANSFER_BLOCKED_BY_ACTIVE_JOB while a backfill is active, unless `cancelActive=true` cancels them first.',
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.TenantNotFound, ErrorCode.TransferBlockedByActiveJob)
  @ApiSuccess(200, workspaceView, transferredWorkspaceExample, 'The workspace, now with its new tenant')
  async transfer(
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(transferWorkspaceBody, { tenantId: '5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }) body: TransferWorkspaceBody,
    @ValidQuery(transferWorkspaceQuery) query: TransferWorkspaceQuery,
    @CurrentActor() actor: RequestActor,
  ): Promise<WorkspaceView> {
    return toWorkspaceView(await this.transfers.transfer(workspaceId, body.tenantId, { cancelActive: query.cancelActive, actor }));
  }
}

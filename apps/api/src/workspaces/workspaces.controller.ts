import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { WorkspaceService } from '#libs/tenancy';
import { CurrentPrincipal, PlatformOnly, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { openApiSchema, UuidParam, ValidBody } from '../http/zod-validation.js';
import {
  type CreateWorkspaceBody,
  createWorkspaceBody,
  toWorkspaceView,
  type TransferWorkspaceBody,
  transferWorkspaceBody,
  type WorkspaceView,
  workspaceView,
} from '../tenants/tenant.dto.js';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('v1')
export class WorkspacesController {
  constructor(private readonly workspaces: WorkspaceService) {}

  @Post('tenants/:tenantId/workspaces')
  @ApiCreatedResponse({ schema: openApiSchema(workspaceView, 'output') })
  async create(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('tenantId') tenantId: string,
    @ValidBody(createWorkspaceBody) body: CreateWorkspaceBody,
  ): Promise<WorkspaceView> {
    assertTenantAccess(principal, tenantId);
    return toWorkspaceView(await this.workspaces.create(tenantId, body.name));
  }

  @Get('tenants/:tenantId/workspaces')
  @ApiOkResponse({ schema: openApiSchema(z.object({ items: z.array(workspaceView) }), 'output') })
  async list(@CurrentPrincipal() principal: Principal, @UuidParam('tenantId') tenantId: string): Promise<{ items: WorkspaceView[] }> {
    assertTenantAccess(principal, tenantId);
    return { items: (await this.workspaces.list(tenantId)).map(toWorkspaceView) };
  }

  /** Moves a workspace to another tenant (platform admin only); every process's tenant cache hears of it. */
  @Post('workspaces/:workspaceId/transfer')
  @PlatformOnly()
  @HttpCode(200)
  @ApiOkResponse({ schema: openApiSchema(workspaceView, 'output') })
  async transfer(
    @UuidParam('workspaceId') workspaceId: string,
    @ValidBody(transferWorkspaceBody) body: TransferWorkspaceBody,
  ): Promise<WorkspaceView> {
    return toWorkspaceView(await this.workspaces.transfer(workspaceId, body.tenantId));
  }
}

import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { WorkspaceService } from '#libs/tenancy';
import { CurrentPrincipal, PlatformOnly, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { uuidParam } from '../http/validation.js';
import { CreateWorkspaceDto, TransferWorkspaceDto, WorkspaceView } from '../tenants/tenant.dto.js';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('v1')
export class WorkspacesController {
  constructor(private readonly workspaces: WorkspaceService) {}

  @Post('tenants/:tenantId/workspaces')
  @ApiCreatedResponse({ type: WorkspaceView })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Param('tenantId', uuidParam('tenantId')) tenantId: string,
    @Body() body: CreateWorkspaceDto,
  ): Promise<WorkspaceView> {
    assertTenantAccess(principal, tenantId);
    return WorkspaceView.of(await this.workspaces.create(tenantId, body.name));
  }

  @Get('tenants/:tenantId/workspaces')
  async list(@CurrentPrincipal() principal: Principal, @Param('tenantId', uuidParam('tenantId')) tenantId: string): Promise<{ items: WorkspaceView[] }> {
    assertTenantAccess(principal, tenantId);
    return { items: (await this.workspaces.list(tenantId)).map(WorkspaceView.of) };
  }

  /** Moves a workspace to another tenant (platform admin only); every process's tenant cache hears of it. */
  @Post('workspaces/:workspaceId/transfer')
  @PlatformOnly()
  @HttpCode(200)
  @ApiOkResponse({ type: WorkspaceView })
  async transfer(@Param('workspaceId', uuidParam('workspaceId')) workspaceId: string, @Body() body: TransferWorkspaceDto): Promise<WorkspaceView> {
    return WorkspaceView.of(await this.workspaces.transfer(workspaceId, body.tenantId));
  }
}

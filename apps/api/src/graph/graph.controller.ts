import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type EntityDetail, type GraphPage, GraphQueryService } from '#libs/graphrag';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { WorkspaceAccess } from '../auth/workspace-access.js';
import { uuidParam } from '../http/validation.js';
import { EntityDetailView, GraphPageView, GraphQueryDto } from './graph.dto.js';

@ApiTags('graph')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId/graph')
export class GraphController {
  constructor(
    private readonly graph: GraphQueryService,
    private readonly access: WorkspaceAccess,
  ) {}

  @Get()
  @ApiOkResponse({ type: GraphPageView })
  async page(
    @CurrentPrincipal() principal: Principal,
    @Param('workspaceId', uuidParam('workspaceId')) workspaceId: string,
    @Query() query: GraphQueryDto,
  ): Promise<GraphPage> {
    await this.access.resolve(principal, workspaceId);
    return this.graph.page(workspaceId, query);
  }

  @Get('entities/:entityId')
  @ApiOkResponse({ type: EntityDetailView, description: "404 NOT_FOUND for an unknown entity or another workspace's" })
  async entity(
    @CurrentPrincipal() principal: Principal,
    @Param('workspaceId', uuidParam('workspaceId')) workspaceId: string,
    @Param('entityId', uuidParam('entityId')) entityId: string,
  ): Promise<EntityDetail> {
    await this.access.resolve(principal, workspaceId);
    return this.graph.entity(workspaceId, entityId);
  }
}

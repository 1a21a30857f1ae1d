import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type EntityDetail, type GraphPage, GraphQueryService } from '#libs/graphrag';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { WorkspaceAccess } from '../auth/workspace-access.js';
import { openApiSchema, UuidParam, ValidQuery } from '../http/zod-validation.js';
import { entityDetailView, type GraphQuery, graphQuery, graphPageView } from './graph.dto.js';

@ApiTags('graph')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId/graph')
export class GraphController {
  constructor(
    private readonly graph: GraphQueryService,
    private readonly access: WorkspaceAccess,
  ) {}

  @Get()
  @ApiOkResponse({ schema: openApiSchema(graphPageView, 'output') })
  async page(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidQuery(graphQuery) query: GraphQuery,
  ): Promise<GraphPage> {
    await this.access.resolve(principal, workspaceId);
    return this.graph.page(workspaceId, query);
  }

  @Get('entities/:entityId')
  @ApiOkResponse({ schema: openApiSchema(entityDetailView, 'output'), description: "404 NOT_FOUND for an unknown entity or another workspace's" })
  async entity(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('workspaceId') workspaceId: string,
    @UuidParam('entityId') entityId: string,
  ): Promise<EntityDetail> {
    await this.access.resolve(principal, workspaceId);
    return this.graph.entity(workspaceId, entityId);
  }
}

import { Controller, Get, Headers, HttpStatus, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ErrorCode } from '#libs/common';
import { type EntityDetail, GraphQueryService } from '#libs/graphrag';
import { TenantResolver, type TenantScope } from '#libs/tenancy';
import { CurrentScope } from '../auth/scope.js';
import { clientAbortSignal } from '../http/client-abort.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidQuery } from '../http/zod-validation.js';
import { entityDetailView, type GraphQuery, graphQuery, graphPageView } from './graph.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { entityDetailExample, graphPageExample } from './graph.examples.js';

@ApiTags('graph')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId/graph')
export class GraphController {
  constructor(
    private readonly graph: GraphQueryService,
    private readonly tenants: TenantResolver,
  ) {}

  @Get()
  @ApiOperation({
    summary: "Read a page of a workspace's knowledge graph",
    description:
      'Entities in normalized-name order (keyset pages: pass nextCursor back), filtered by `type` and a name fragment `q`, ' +
      'with the relationships that touch them (the 2,000 strongest at most, `relationshipsTruncated`). Every relationship in an answer has both ends in it: ' +
      "an end the page does not list (another page's entity, or one the filters leave out) comes in `linkedEntities`. " +
      'Reading every page gives every relationship among the matching entities and the entities they link to. ' +
      'With an ETag: `If-None-Match` answers 304 while the graph and the query are unchanged; gzipped when Accept-Encoding allows.',
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.GraphReadTimeout, ErrorCode.ServiceBusy)
  @ApiSuccess(200, graphPageView, graphPageExample, 'With an ETag')
  @ApiResponse({ status: HttpStatus.NOT_MODIFIED, description: 'If-None-Match holds the current ETag: the graph and the query are unchanged' })
  async page(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidQuery(graphQuery) query: GraphQuery,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await this.tenants.resolveIn(scope, workspaceId);
    // gzip when the client takes it (every browser does): the cached page is already compressed, and
    // writing a tenth of the bytes is most of what an answer costs
    const encoding = request.acceptsEncodings('gzip', 'identity') === 'gzip' ? 'gzip' : 'identity';
    const { etag, body } = await this.graph.page(workspaceId, query, { signal: clientAbortSignal(response), ifNoneMatch, encoding });
    // private: the answer depends on the caller's token
    response.setHeader('Cache-Control', 'private, no-cache');
    response.setHeader('Vary', 'Accept-Encoding');
    response.setHeader('ETag', etag);
    if (body === undefined) {
      response.status(HttpStatus.NOT_MODIFIED).end();
      return;
    }
    // the page's bytes as the cache keeps them: serialized and compressed once, not on every answer
    // (written here, not returned: Nest would serialize a returned Buffer as an object)
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    if (encoding === 'gzip') response.setHeader('Content-Encoding', 'gzip');
    response.send(body);
  }

  @Get('entities/:entityId')
  @ApiOperation({
    summary: 'Read one entity with its mentions',
    description:
      "The entity, its relationships and its oldest mentions (the records it was extracted from). An unknown entity, or another workspace's, is 404 NOT_FOUND.",
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.NotFound, ErrorCode.GraphReadTimeout, ErrorCode.ServiceBusy)
  @ApiSuccess(200, entityDetailView, entityDetailExample)
  async entity(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @UuidParam('entityId') entityId: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<EntityDetail> {
    await this.tenants.resolveIn(scope, workspaceId);
    return this.graph.entity(workspaceId, entityId, clientAbortSignal(response));
  }
}

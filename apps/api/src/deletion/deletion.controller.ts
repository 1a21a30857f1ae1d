import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { RecordDeletionService, WorkspaceDeletionService } from '#libs/deletion';
import type { RequestActor, TenantScope } from '#libs/tenancy';
import { CurrentActor } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { openApiSchema, UuidParam, ValidQuery, ZodValidationPipe } from '../http/zod-validation.js';
import {
  externalIdParam,
  type RecordDeletionQuery,
  recordDeletionQuery,
  recordDeletionView,
  toWorkspaceDeletionView,
  type WorkspaceDeletionQuery,
  workspaceDeletionQuery,
  type WorkspaceDeletionView,
  workspaceDeletionView,
} from './deletion.dto.js';

const ExternalIdParam = (): ParameterDecorator => {
  const param = Param('externalId', new ZodValidationPipe(externalIdParam, 'externalId'));
  return (target, key, index) => {
    param(target, key, index);
    if (key !== undefined)
      ApiParam({ name: 'externalId', schema: openApiSchema(externalIdParam), description: 'URL-encoded' })(
        target,
        key,
        Object.getOwnPropertyDescriptor(target, key)!,
      );
  };
};

@ApiTags('deletion')
@ApiBearerAuth()
@Controller('v1')
export class DeletionController {
  constructor(
    private readonly records: RecordDeletionService,
    private readonly workspaces: WorkspaceDeletionService,
  ) {}

  /**
   * Deletes a record with its mentions and the entities and relationships no other record
   * supports, in one transaction, and tombstones its externalId so it never comes back.
   */
  @Delete('workspaces/:workspaceId/records/:externalId')
  @HttpCode(200)
  @ApiOkResponse({
    schema: openApiSchema(recordDeletionView, 'output'),
    description: '404 RECORD_NOT_FOUND; 409 DELETION_BLOCKED_BY_ACTIVE_JOB while a backfill of the workspace is queued or running',
  })
  async deleteRecord(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @ExternalIdParam() externalId: string,
    @ValidQuery(recordDeletionQuery) query: RecordDeletionQuery,
  ) {
    return this.records.delete(scope, workspaceId, query.source ?? null, externalId);
  }

  /** Lifts a deleted record's tombstone: its externalId may be uploaded again (nothing deleted comes back by itself). */
  @Delete('workspaces/:workspaceId/tombstones/:externalId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: '404 TOMBSTONE_NOT_FOUND when the externalId was not deleted' })
  async liftTombstone(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @ExternalIdParam() externalId: string,
    @ValidQuery(recordDeletionQuery) query: RecordDeletionQuery,
  ): Promise<void> {
    await this.records.lift(scope, workspaceId, query.source ?? null, externalId);
  }

  /**
   * Deletes a workspace (its tenant's admin or the platform admin): it is gone for every reader at
   * once, and a job removes its data in batches. 202 with the job to watch.
   */
  @Delete('workspaces/:workspaceId')
  @HttpCode(202)
  @ApiAcceptedResponse({
    schema: openApiSchema(workspaceDeletionView, 'output'),
    description: '409 DELETION_BLOCKED_BY_ACTIVE_JOB while a backfill is active, unless cancelActive=true',
  })
  async deleteWorkspace(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidQuery(workspaceDeletionQuery) query: WorkspaceDeletionQuery,
    @CurrentActor() actor: RequestActor,
  ): Promise<WorkspaceDeletionView> {
    const deletion = await this.workspaces.request(scope, workspaceId, { cancelActive: query.cancelActive, actor });
    return toWorkspaceDeletionView(deletion);
  }

  /** A workspace deletion's progress: status, rows deleted so far per kind, failure; another tenant's reads as not found. */
  @Get('workspace-deletions/:jobId')
  @ApiOkResponse({ schema: openApiSchema(workspaceDeletionView, 'output') })
  async getDeletion(@CurrentScope() scope: TenantScope, @UuidParam('jobId') jobId: string): Promise<WorkspaceDeletionView> {
    return toWorkspaceDeletionView(await this.workspaces.get(scope, jobId));
  }
}

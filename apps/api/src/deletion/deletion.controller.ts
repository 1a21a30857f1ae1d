import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '#libs/common';
import { RecordDeletionService, WorkspaceDeletionService } from '#libs/deletion';
import type { RequestActor, TenantScope } from '#libs/tenancy';
import { CurrentActor } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
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
import { ApiSuccess } from '../http/api-success.js';
import { recordDeletionExample, workspaceDeletionExample, workspaceDeletionQueuedExample } from './deletion.examples.js';

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
  @ApiOperation({
    summary: 'Delete a record',
    description:
      'With its mentions and the entities and relationships no other record supports, in one transaction; its externalId is tombstoned so a re-upload skips it. ' +
      'Refused (409) while a backfill of the workspace is queued or running.',
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.RecordNotFound, ErrorCode.DeletionBlockedByActiveJob)
  @HttpCode(200)
  @ApiSuccess(200, recordDeletionView, recordDeletionExample, 'What was deleted, per kind')
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
  @ApiOperation({
    summary: "Lift a deleted record's tombstone",
    description: 'Its externalId may be uploaded again; nothing deleted comes back by itself.',
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.TombstoneNotFound)
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The tombstone is lifted' })
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
  @ApiOperation({
    summary: 'Delete a workspace',
    description:
      'Gone for every reader at once; a job empties it in batches (202 with the job to watch). Refused (409) while a backfill is active unless `cancelActive=true`. ' +
      'Asking again for a workspace being deleted resumes its deletion.',
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.DeletionBlockedByActiveJob, ErrorCode.QueueUnavailable)
  @HttpCode(202)
  @ApiSuccess(202, workspaceDeletionView, workspaceDeletionQueuedExample, 'The deletion job')
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
  @ApiOperation({
    summary: "Get a workspace deletion's progress",
    description: "Status, rows deleted so far per kind, failure. Another tenant's answers 404.",
  })
  @ApiErrors(ErrorCode.WorkspaceDeletionNotFound)
  @ApiSuccess(200, workspaceDeletionView, workspaceDeletionExample)
  async getDeletion(@CurrentScope() scope: TenantScope, @UuidParam('jobId') jobId: string): Promise<WorkspaceDeletionView> {
    return toWorkspaceDeletionView(await this.workspaces.get(scope, jobId));
  }
}

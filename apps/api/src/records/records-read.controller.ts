import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '#libs/common';
import { RecordReader } from '#libs/records';
import { TenantResolver, type TenantScope } from '#libs/tenancy';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidQuery } from '../http/zod-validation.js';
import { type RecordsPageView, recordsPageView, type RecordsQuery, recordsQuery, toRecordView } from './records-read.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { recordsPageExample } from './records.examples.js';

@ApiTags('records')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId')
export class RecordsReadController {
  constructor(
    private readonly records: RecordReader,
    private readonly tenants: TenantResolver,
  ) {}

  /** A workspace's records as stored, in insertion order, keyset-paginated; another tenant's workspace is a 404. */
  @Get('records')
  @ApiOperation({
    summary: "List a workspace's records",
    description: "As stored, in insertion order, keyset paginated (`cursor` is the previous page's `nextCursor`), optionally of one source.",
  })
  @ApiErrors(ErrorCode.WorkspaceNotFound)
  @ApiSuccess(200, recordsPageView, recordsPageExample)
  async list(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @ValidQuery(recordsQuery) query: RecordsQuery,
  ): Promise<RecordsPageView> {
    await this.tenants.resolveIn(scope, workspaceId);
    const page = await this.records.page(workspaceId, { afterSeq: query.cursor, limit: query.limit, source: query.source });
    return { items: page.records.map(toRecordView), nextCursor: page.nextSeq === null ? null : page.nextSeq.toString() };
  }
}

import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import pLimit, { type LimitFunction } from 'p-limit';
import { ErrorCode } from '#libs/common';
import { AppConfig } from '#libs/config';
import { decodedUpload, formFile, type IngestResult, type RecordPayloadFormat, RecordIngestService, UnsupportedMediaTypeError } from '#libs/records';
import { TenantResolver, type TenantScope } from '#libs/tenancy';
import { CurrentScope } from '../auth/scope.js';
import { ApiBodyContent } from '../http/api-body.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam } from '../http/zod-validation.js';
import { contentTypeOf, expectsContinue, ingestResultView, mboxUploadContent, recordsUploadContent } from './records.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { ingestResultExample, mboxIngestExample } from './records.examples.js';

const RECORD_FORMATS: Readonly<Record<string, RecordPayloadFormat>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
};
const RAW_MBOX_TYPES = ['application/mbox', 'text/plain', 'application/octet-stream'];
const MULTIPART_FORM = 'multipart/form-data';

/**
 * Uploads. No body parser runs for these routes (bootstrap.ts): the guard has checked the token and
 * the handler the workspace before a single body byte is read, then the body is parsed as a stream
 * under the ingest caps. A refusal answered before the body was read closes the connection.
 */
@ApiTags('records')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId')
export class RecordsController {
  // uploads read and parsed at once in this process (UPLOAD_MAX_CONCURRENT); the others wait their
  // turn with their bodies unread, so memory is bounded across requests, not only per request
  private readonly uploads: LimitFunction;

  constructor(
    private readonly records: RecordIngestService,
    private readonly tenants: TenantResolver,
    private readonly config: AppConfig,
  ) {
    this.uploads = pLimit(config.ingest.maxConcurrentUploads);
  }

  /** Stores a batch of records; every row is judged on its own, and a re-sent externalId counts as a duplicate. */
  @Post('records')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Upload records',
    description:
      'Stores a batch of records (all or nothing once the body was read whole). Each record is judged on its own: an invalid one is in `rejected` ' +
      'by its index (INVALID_RECORD), a re-sent externalId counts as a duplicate, a deleted one (tombstoned) as `deleted`. ' +
      'The token and the workspace are checked before a byte of the body is read.',
  })
  @ApiBodyContent(
    'A JSON array of records, { records: [...] }, or one record per line (NDJSON); UTF-8; up to 50 MB, gzip or deflate Content-Encoding accepted; ' +
      '413 RECORDS_LIMIT past 20,000 records, 1 MB per record or 32 levels of nesting',
    recordsUploadContent(),
  )
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.RecordsLimit, ErrorCode.UploadStalled)
  @ApiSuccess(200, ingestResultView, ingestResultExample)
  async ingest(@CurrentScope() scope: TenantScope, @UuidParam('workspaceId') workspaceId: string, @Req() request: Request): Promise<IngestResult> {
    await this.tenants.resolveIn(scope, workspaceId);
    const { mediaType, charset } = contentTypeOf(request);
    const format = RECORD_FORMATS[mediaType];
    if (!format || (charset && charset !== 'utf-8' && charset !== 'utf8')) {
      throw new UnsupportedMediaTypeError(`Send records as UTF-8 ${Object.keys(RECORD_FORMATS).join(', ')}`);
    }
    return this.uploads(() => this.records.ingest(workspaceId, this.body(request), format));
  }

  @Post('imports/mbox')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import an mbox archive',
    description:
      'Each message becomes a record (source `mbox`, its Message-ID as externalId, else its SHA-256); a message without a usable date is in `rejected` ' +
      'with INVALID_DATE. Stored all or nothing, like an upload of records.',
  })
  @ApiBodyContent(
    'An mbox archive (mboxo or mboxrd) as the raw body, or as the "file" field of a form; up to 50 MB',
    mboxUploadContent(RAW_MBOX_TYPES),
  )
  @ApiErrors(ErrorCode.WorkspaceNotFound, ErrorCode.InvalidMbox, ErrorCode.RecordsLimit, ErrorCode.UploadStalled)
  @ApiSuccess(200, ingestResultView, mboxIngestExample)
  async importMbox(
    @CurrentScope() scope: TenantScope,
    @UuidParam('workspaceId') workspaceId: string,
    @Req() request: Request,
  ): Promise<IngestResult> {
    await this.tenants.resolveIn(scope, workspaceId);
    const { mediaType } = contentTypeOf(request);
    if (mediaType !== MULTIPART_FORM && !RAW_MBOX_TYPES.includes(mediaType)) {
      throw new UnsupportedMediaTypeError(`Send the mbox archive as ${RAW_MBOX_TYPES.join(', ')} or as the "file" field of ${MULTIPART_FORM}`);
    }
    const body = this.body(request);
    const archive = mediaType === MULTIPART_FORM ? formFile(body, request.headers, 'file', this.config.ingest.maxDecodedBytes) : body;
    return this.uploads(() => this.records.importMbox(workspaceId, archive));
  }

  /** The request's body as decoded bytes, read only when the parse asks for them. */
  private body(request: Request): AsyncGenerator<Buffer> {
    // authenticated and the workspace checked: a client waiting for 100 Continue may send its body now
    if (expectsContinue(request)) request.res?.writeContinue();
    const length = request.headers['content-length'];
    return decodedUpload(
      { stream: request, encoding: request.headers['content-encoding'], declaredBytes: length === undefined ? undefined : Number(length) },
      this.config.ingest,
    );
  }
}

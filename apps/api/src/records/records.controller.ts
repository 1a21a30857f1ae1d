import {
  type CallHandler,
  Controller,
  type ExecutionContext,
  HttpCode,
  Injectable,
  type NestInterceptor,
  Post,
  Req,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { ValidationFailedError } from '#libs/common';
import { type IngestResult, type RecordPayloadFormat, RecordIngestService, UnsupportedMediaTypeError } from '#libs/records';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { WorkspaceAccess } from '../auth/workspace-access.js';
import { openApiSchema, UuidParam } from '../http/zod-validation.js';
import { contentTypeOf, ingestResultView, UPLOAD_LIMIT_BYTES } from './records.dto.js';

const RECORD_FORMATS: Readonly<Record<string, RecordPayloadFormat>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
};
const RAW_MBOX_TYPES = ['application/mbox', 'text/plain', 'application/octet-stream'];
const MULTIPART_FORM = 'multipart/form-data';

/** Multer is only the reader of a multipart form; the upload's type is checked before it reads anything. */
@Injectable()
class MboxMediaTypes implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { mediaType } = contentTypeOf(context.switchToHttp().getRequest<Request>());
    if (mediaType !== MULTIPART_FORM && !RAW_MBOX_TYPES.includes(mediaType)) {
      throw new UnsupportedMediaTypeError(`Send the mbox archive as ${RAW_MBOX_TYPES.join(', ')} or as the "file" field of ${MULTIPART_FORM}`);
    }
    return next.handle();
  }
}

/** What multer's memory storage hands over (its typings are not a dependency). */
interface UploadedArchive {
  buffer: Buffer;
}

@ApiTags('records')
@ApiBearerAuth()
@Controller('v1/workspaces/:workspaceId')
export class RecordsController {
  constructor(
    private readonly records: RecordIngestService,
    private readonly access: WorkspaceAccess,
  ) {}

  /** Stores a batch of records; every row is judged on its own, and a re-sent externalId counts as a duplicate. */
  @Post('records')
  @HttpCode(200)
  @ApiConsumes(...Object.keys(RECORD_FORMATS))
  @ApiBody({
    description: 'A JSON array of { externalId, from, to, subject, body, sentAt }, { records: [...] }, or one record per line (NDJSON); up to 50 MB',
  })
  @ApiOkResponse({ schema: openApiSchema(ingestResultView, 'output') })
  async ingest(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('workspaceId') workspaceId: string,
    @Req() request: Request,
  ): Promise<IngestResult> {
    await this.access.resolve(principal, workspaceId);
    const { mediaType, charset } = contentTypeOf(request);
    const format = RECORD_FORMATS[mediaType];
    if (!format || (charset && charset !== 'utf-8' && charset !== 'utf8')) {
      throw new UnsupportedMediaTypeError(`Send records as UTF-8 ${Object.keys(RECORD_FORMATS).join(', ')}`);
    }
    return this.records.ingest(workspaceId, rawBody(request).toString('utf8'), format);
  }

  @Post('imports/mbox')
  @HttpCode(200)
  @UseInterceptors(MboxMediaTypes, FileInterceptor('file', { limits: { fileSize: UPLOAD_LIMIT_BYTES, files: 1 } }))
  @ApiConsumes(...RAW_MBOX_TYPES, MULTIPART_FORM)
  @ApiBody({ description: 'An mbox archive (mboxo or mboxrd) as the raw body, or as the "file" field of a form; up to 50 MB' })
  @ApiOkResponse({ schema: openApiSchema(ingestResultView, 'output') })
  async importMbox(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('workspaceId') workspaceId: string,
    @Req() request: Request,
    @UploadedFile() file: UploadedArchive | undefined,
  ): Promise<IngestResult> {
    await this.access.resolve(principal, workspaceId);
    const isForm = contentTypeOf(request).mediaType === MULTIPART_FORM;
    if (isForm && !file) throw new ValidationFailedError('Send the mbox archive as the "file" field of the form');
    return this.records.importMbox(workspaceId, file?.buffer ?? rawBody(request));
  }
}

/** Upload routes get their body as bytes from the raw parser set up in bootstrap.ts; no body is empty. */
function rawBody(request: Request): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

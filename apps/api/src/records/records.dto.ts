import type { IncomingMessage } from 'node:http';
import { ApiProperty } from '@nestjs/swagger';

/** Records and mbox uploads may be this large; every other route keeps the 1 MB JSON limit. */
export const UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024;

// Express routes ignore case and a trailing slash, so the body parsers must match the same way
const UPLOAD_PATH = /^\/v1\/workspaces\/[^/]+\/(?:records|imports\/mbox)\/?$/i;

export function isUploadPath(req: IncomingMessage): boolean {
  return UPLOAD_PATH.test((req.url ?? '').split('?')[0]);
}

export interface ContentType {
  /** Lowercase, without parameters; '' when the header is missing. */
  mediaType: string;
  charset?: string;
}

export function contentTypeOf(req: IncomingMessage): ContentType {
  const [mediaType, ...params] = (req.headers['content-type'] ?? '').split(';');
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)"?\s*$/i.exec(p)?.[1]).find(Boolean);
  return { mediaType: mediaType.trim().toLowerCase(), charset: charset?.toLowerCase() };
}

export class RejectedRecordView {
  @ApiProperty({ description: 'Position of the record in the upload (0-based; NDJSON blank lines are not counted)' }) index: number;
  @ApiProperty({ example: 'INVALID_RECORD' }) code: string;
  @ApiProperty({ example: 'sentAt must be an ISO 8601 date-time' }) message: string;
}

export class IngestResultView {
  @ApiProperty({ description: 'Records stored by this request' }) accepted: number;
  @ApiProperty({ description: 'Valid records already stored under the same externalId (nothing changed)' }) duplicates: number;
  @ApiProperty({ type: [RejectedRecordView] }) rejected: RejectedRecordView[];
}

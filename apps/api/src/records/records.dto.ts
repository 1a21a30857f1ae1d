import type { IncomingMessage } from 'node:http';
import { parse as parseContentType } from 'content-type';
import { z } from 'zod';

// Express routes ignore case and a trailing slash, so the body parsers must match the same way; records
// and mbox uploads are read by their handler (UPLOAD_LIMIT_BYTES), every other route has the 1 MB JSON limit
const UPLOAD_PATH = /^\/v1\/workspaces\/[^/]+\/(?:records|imports\/mbox)\/?$/i;

export function isUploadPath(req: IncomingMessage): boolean {
  return UPLOAD_PATH.test((req.url ?? '').split('?')[0]);
}

/** Whether the client waits for `100 Continue` before sending its body (RFC 9110 section 10.1.1). */
export function expectsContinue(req: IncomingMessage): boolean {
  return req.headers.expect?.toLowerCase() === '100-continue';
}

export interface ContentType {
  /** Lowercase, without parameters; '' when the header is missing. */
  mediaType: string;
  /** Lowercase, when the header names one. */
  charset?: string;
}

/** The request's media type and charset, parsed by the `content-type` package (RFC 9110 section 8.3). */
export function contentTypeOf(req: IncomingMessage): ContentType {
  const { type, parameters } = parseContentType(req.headers['content-type'] ?? '');
  return { mediaType: type.toLowerCase(), charset: parameters.charset?.toLowerCase() };
}

export const ingestResultView = z.object({
  accepted: z.number().int().meta({ description: 'Records stored by this request' }),
  duplicates: z.number().int().meta({ description: 'Valid records already stored under the same externalId (nothing changed)' }),
  deleted: z.number().int().meta({
    description:
      'Valid records skipped because their externalId was deleted (DELETE .../records/:externalId left a tombstone); lift it with DELETE .../tombstones/:externalId to upload it again',
  }),
  rejected: z.array(
    z.object({
      index: z.number().int().meta({ description: 'Position of the record in the upload (0-based; NDJSON blank lines are not counted)' }),
      code: z.string().meta({ example: 'INVALID_RECORD' }),
      message: z.string().meta({ example: 'sentAt must be an ISO 8601 date-time' }),
    }),
  ),
});

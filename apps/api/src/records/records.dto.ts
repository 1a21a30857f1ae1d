import type { IncomingMessage } from 'node:http';
import { parse as parseContentType } from 'content-type';
import type { MediaTypeObject } from '@nestjs/swagger';
import { z } from 'zod';
import { incomingRecordSchema } from '#libs/records';
import { openApiSchema } from '../http/zod-validation.js';

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

const RECORD_EXAMPLES = [
  {
    externalId: 'msg-0001',
    from: 'ann@example.com',
    to: ['bob@example.com'],
    subject: 'Kickoff',
    body: 'Ann from Acme met Bob from Globex in Berlin.',
    sentAt: '2025-01-06T09:00:00Z',
  },
  { externalId: 'msg-0002', from: 'bob@example.com', to: 'ann@example.com', body: 'Globex signs with Acme.', sentAt: '2025-01-07T14:30:00+01:00' },
];

/**
 * The records upload's body per media type: JSON is an array of records or `{ records: [...] }`;
 * NDJSON (and JSON Lines) is text, one record per line.
 */
export function recordsUploadContent(): Record<string, MediaTypeObject> {
  const record = openApiSchema(incomingRecordSchema);
  const ndjson = {
    schema: { type: 'string', description: 'One record (a JSON object, as in the array form) per line; blank lines are skipped' },
    example: RECORD_EXAMPLES.map((row) => JSON.stringify(row)).join('\n'),
  } satisfies MediaTypeObject;
  return {
    'application/json': {
      schema: {
        oneOf: [
          { type: 'array', items: record, description: 'The records' },
          { type: 'object', properties: { records: { type: 'array', items: record } }, required: ['records'], additionalProperties: false },
        ],
      },
      examples: {
        array: { summary: 'A JSON array', value: RECORD_EXAMPLES },
        wrapped: { summary: '{ records: [...] }', value: { records: RECORD_EXAMPLES } },
      },
    },
    'application/x-ndjson': ndjson,
    'application/jsonl': ndjson,
  };
}

const MBOX_EXAMPLE = [
  'From ann@example.com Mon Jan  6 09:00:00 2025',
  'From: Ann <ann@example.com>',
  'To: bob@example.com',
  'Subject: Kickoff',
  'Date: Mon, 6 Jan 2025 09:00:00 +0000',
  'Message-ID: <kickoff@example.com>',
  '',
  'Ann from Acme met Bob from Globex in Berlin.',
  '',
].join('\n');

/** The mbox import's body: the archive as raw bytes (three media types accepted) or as the `file` field of a form. */
export function mboxUploadContent(rawTypes: readonly string[]): Record<string, MediaTypeObject> {
  const raw = {
    schema: { type: 'string', format: 'binary', description: 'An mbox archive (mboxo or mboxrd)' },
    example: MBOX_EXAMPLE,
  } satisfies MediaTypeObject;
  return {
    ...Object.fromEntries(rawTypes.map((type) => [type, raw])),
    'multipart/form-data': {
      schema: { type: 'object', properties: { file: { type: 'string', format: 'binary', description: 'The mbox archive' } }, required: ['file'] },
      encoding: { file: { contentType: 'application/mbox' } },
    },
  };
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

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGunzip, createInflate } from 'node:zlib';
import type { IncomingHttpHeaders } from 'node:http';
import busboy from 'busboy';
import { AppError, ValidationFailedError } from '#libs/common';
import type { IngestLimits } from '#libs/config';
import { UnsupportedMediaTypeError, UploadStalledError, UploadTooLargeError } from './records.errors.js';

/** An upload as it arrives: the body's bytes, not yet read, and what the headers say of them. */
export interface UploadSource {
  /** The request body. It is read only as far as the parse needs and never destroyed here (the connection's owner closes it). */
  stream: Readable;
  /** The Content-Encoding header; missing or `identity` for none. */
  encoding?: string;
  /** The Content-Length header (bytes), when the client declared one. */
  declaredBytes?: number;
}

type ByteLimits = Pick<IngestLimits, 'maxUploadBytes' | 'maxDecodedBytes'> & Partial<Pick<IngestLimits, 'idleTimeoutMs'>>;

const MB = 1024 * 1024;
const size = (bytes: number) => (bytes >= MB ? `${Math.round((bytes / MB) * 10) / 10} MB` : `${bytes} bytes`);

/**
 * The body's bytes with gzip or deflate undone (RFC 9110 section 8.4.1), chunk by chunk as they arrive.
 * Throws UploadTooLargeError (413 PAYLOAD_TOO_LARGE) as soon as more than `maxUploadBytes` were sent
 * (at once when Content-Length says so) or more than `maxDecodedBytes` were decoded, so a gzip bomb
 * never inflates past the cap; UnsupportedMediaTypeError (415) for another encoding; a
 * ValidationFailedError for data that does not decode. Between chunks it waits one turn of the event
 * loop, so a long upload never holds the loop for more than one chunk's parse.
 */
export async function* decodedUpload(source: UploadSource, limits: ByteLimits): AsyncGenerator<Buffer> {
  if (source.declaredBytes !== undefined && source.declaredBytes > limits.maxUploadBytes) {
    throw new UploadTooLargeError(`The upload is ${size(source.declaredBytes)}; at most ${size(limits.maxUploadBytes)} may be sent`);
  }
  const decoder = decoderFor(source.encoding);
  const wire = sentBytes(source.stream, limits.maxUploadBytes, limits.idleTimeoutMs);
  if (!decoder) {
    yield* paced(wire, limits.maxDecodedBytes);
    return;
  }
  // the decoder pulls from `wire` only as fast as the parse takes its output (backpressure)
  let failure: unknown;
  const decoding = pipeline(wire, decoder).catch((error: unknown) => {
    failure ??= error;
  });
  try {
    yield* paced(decoder, limits.maxDecodedBytes);
  } catch (error) {
    failure ??= error;
  } finally {
    decoder.destroy();
    await decoding;
  }
  if (failure !== undefined) {
    if (failure instanceof AppError) throw failure;
    throw new ValidationFailedError(`The body could not be decoded as ${source.encoding?.trim().toLowerCase()}`);
  }
}

function decoderFor(header: string | undefined) {
  const encoding = (header ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  throw new UnsupportedMediaTypeError(`Content-Encoding "${encoding}" is not supported; send the body as is, gzip or deflate`);
}

/**
 * The request's chunks, counted against the cap; leaving early leaves the request paused, not
 * destroyed. A client that sends nothing for `idleTimeoutMs` gets UploadStalledError (408): a client
 * that stalls short of its Content-Length would otherwise hold what was parsed so far for as long as
 * the server's request timeout (300 s by default).
 */
async function* sentBytes(stream: Readable, maxBytes: number, idleTimeoutMs?: number): AsyncGenerator<Buffer> {
  let total = 0;
  const chunks = (stream.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await withinIdleTime(chunks.next(), idleTimeoutMs);
      if (next.done) return;
      total += next.value.length;
      if (total > maxBytes) throw new UploadTooLargeError(`The upload is larger than ${size(maxBytes)}`);
      yield next.value;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    // the client went away mid-upload (ECONNRESET, aborted): nobody reads the answer, and nothing failed here
    throw new ValidationFailedError('The upload ended before it was complete');
  }
}

/** `read`, or UploadStalledError when it takes longer than `ms` (no limit when `ms` is undefined). */
async function withinIdleTime<T>(read: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return read;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UploadStalledError(`The upload sent nothing for ${ms} ms; send it again`)), ms);
  });
  try {
    return await Promise.race([read, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

async function* paced(chunks: AsyncIterable<Buffer>, maxDecodedBytes: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > maxDecodedBytes) throw new UploadTooLargeError(`The upload is larger than ${size(maxDecodedBytes)} once decoded`);
    yield chunk;
    await nextTurn();
  }
}

/**
 * The bytes of one file field of a multipart/form-data body (RFC 7578), read with busboy as they
 * arrive; other parts are skipped unread. Throws a ValidationFailedError when the form ends without
 * the field or is malformed, UploadTooLargeError past `maxBytes` of file. Leaving early stops the read.
 */
export async function* formFile(body: AsyncIterable<Buffer>, headers: IncomingHttpHeaders, field: string, maxBytes: number): AsyncGenerator<Buffer> {
  let form: busboy.Busboy;
  try {
    form = busboy({ headers, limits: { files: 10, fileSize: maxBytes, parts: 100, fieldSize: 64 * 1024 } });
  } catch {
    throw new ValidationFailedError('The multipart form has no boundary');
  }
  const source = Readable.from(body, { objectMode: false });
  let file: Readable | undefined;
  let secondFile = false;
  let failure: unknown;
  const formEnded = new Promise<void>((resolve) => {
    form.once('close', () => resolve());
    form.once('error', () => resolve());
  });
  const fail = (error: unknown) => {
    failure ??= error;
    // stop the flow now: busboy would go on taking (and dropping) the rest of the upload
    source.unpipe(form);
    source.pause();
    file?.destroy(error instanceof Error ? error : undefined);
  };
  const found = new Promise<Readable | undefined>((resolve) => {
    form.on('file', (name, stream) => {
      if (name !== field || file) {
        if (name === field) secondFile = true;
        stream.resume();
        return;
      }
      file = stream;
      stream.once('limit', () => fail(new UploadTooLargeError(`The file is larger than ${size(maxBytes)}`)));
      resolve(stream);
    });
    form.on('close', () => resolve(undefined));
    form.on('error', (error) => {
      fail(error);
      resolve(undefined);
    });
    source.on('error', (error) => {
      fail(error);
      resolve(undefined);
    });
  });
  source.pipe(form);
  try {
    const stream = await found;
    if (stream && failure === undefined) {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
      // the rest of the form is read (other parts skipped), so a second archive is refused, not dropped unseen
      await formEnded;
      if (secondFile) failure ??= new ValidationFailedError(`Send one mbox archive per upload: the form has more than one "${field}" part`);
    }
  } catch (error) {
    failure ??= error;
  } finally {
    source.unpipe(form);
    source.destroy();
    form.destroy();
  }
  if (failure instanceof AppError) throw failure;
  if (failure !== undefined) throw new ValidationFailedError('The multipart form is malformed');
  if (!file) throw new ValidationFailedError(`Send the mbox archive as the "${field}" field of the form`);
}

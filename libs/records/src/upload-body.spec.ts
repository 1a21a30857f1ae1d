import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import { ErrorCode } from '#libs/common';
import { decodedUpload, formFile } from './upload-body.js';

const KB = 1024;
const LIMITS = { maxUploadBytes: 64 * KB, maxDecodedBytes: 256 * KB };

/** A body that counts the chunks read from it, so a test sees where the read stopped. */
function body(bytes: Buffer, chunkSize = 4 * KB) {
  const state = { taken: 0 };
  const chunks = Array.from({ length: Math.ceil(bytes.length / chunkSize) }, (_, i) => bytes.subarray(i * chunkSize, (i + 1) * chunkSize));
  const stream = Readable.from(
    (function* () {
      for (const chunk of chunks) {
        state.taken++;
        yield chunk;
      }
    })(),
  );
  return { state, stream, chunks: chunks.length };
}

async function read(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('decodedUpload', () => {
  it('passes a plain body through, and undoes gzip and deflate', async () => {
    const text = Buffer.from('{"records": []}'.repeat(100));
    await expect(read(decodedUpload({ stream: body(text).stream }, LIMITS))).resolves.toEqual(text);
    await expect(read(decodedUpload({ stream: body(gzipSync(text)).stream, encoding: 'gzip' }, LIMITS))).resolves.toEqual(text);
    await expect(read(decodedUpload({ stream: body(deflateSync(text)).stream, encoding: 'Deflate' }, LIMITS))).resolves.toEqual(text);
  });

  it('stops a gzip bomb at the decoded cap, long before it is all inflated', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * KB * KB));
    const limits = { maxUploadBytes: KB * KB, maxDecodedBytes: 256 * KB };
    const source = body(bomb, KB);
    await expect(read(decodedUpload({ stream: source.stream, encoding: 'gzip' }, limits))).rejects.toMatchObject({
      code: ErrorCode.PayloadTooLarge,
      message: expect.stringContaining('once decoded'),
    });
    // what the streams buffer ahead (a few chunks each), not the 64 chunks of the bomb
    expect(source.state.taken).toBeLessThan(source.chunks / 2);
  });

  it('stops at the sent-bytes cap, and at once when Content-Length is over it', async () => {
    const big = body(Buffer.alloc(256 * KB, 'a'));
    await expect(read(decodedUpload({ stream: big.stream }, LIMITS))).rejects.toMatchObject({ code: ErrorCode.PayloadTooLarge });
    expect(big.state.taken).toBeLessThan(big.chunks);
    const declared = body(Buffer.alloc(KB));
    await expect(read(decodedUpload({ stream: declared.stream, declaredBytes: 10 * KB * KB }, LIMITS))).rejects.toMatchObject({
      code: ErrorCode.PayloadTooLarge,
    });
    expect(declared.state.taken).toBe(0);
  });

  it('refuses another encoding with 415 and data that does not decode with 400', async () => {
    await expect(read(decodedUpload({ stream: body(Buffer.from('x')).stream, encoding: 'br' }, LIMITS))).rejects.toMatchObject({
      code: ErrorCode.UnsupportedMediaType,
    });
    await expect(read(decodedUpload({ stream: body(Buffer.from('not gzip at all')).stream, encoding: 'gzip' }, LIMITS))).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
    });
  });
});

describe('formFile', () => {
  async function encode(form: FormData) {
    const response = new Response(form);
    return { bytes: Buffer.from(await response.arrayBuffer()), headers: { 'content-type': response.headers.get('content-type')! } };
  }
  const archive = Buffer.from('From a@example.test Mon Jan  6 09:00:00 2025\n\nhello\n');

  it('yields the bytes of the named file field, skipping other parts', async () => {
    const form = new FormData();
    form.append('note', 'first');
    form.append('other', new Blob(['ignored']), 'other.txt');
    form.append('file', new Blob([new Uint8Array(archive)]), 'inbox.mbox');
    const { bytes, headers } = await encode(form);
    await expect(read(formFile(body(bytes, 7).stream, headers, 'file', 64 * KB))).resolves.toEqual(archive);
  });

  it('refuses a form with two archives in the field rather than dropping the second unseen', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(archive)]), 'one.mbox');
    form.append('file', new Blob([new Uint8Array(archive)]), 'two.mbox');
    const { bytes, headers } = await encode(form);
    await expect(read(formFile(body(bytes, 7).stream, headers, 'file', 64 * KB))).rejects.toThrow('more than one "file" part');
  });

  it('refuses a form without the field, a malformed one and a file past the cap', async () => {
    const noFile = new FormData();
    noFile.append('file', 'a text field, not a file');
    const missing = await encode(noFile);
    await expect(read(formFile(body(missing.bytes).stream, missing.headers, 'file', 64 * KB))).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
    });
    await expect(read(formFile(body(Buffer.from('x')).stream, { 'content-type': 'multipart/form-data' }, 'file', KB))).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
    });
    const large = new FormData();
    large.append('file', new Blob([new Uint8Array(Buffer.alloc(2 * KB * KB, 'a'))]), 'inbox.mbox');
    const big = await encode(large);
    const source = body(big.bytes);
    await expect(read(formFile(source.stream, big.headers, 'file', 16 * KB))).rejects.toMatchObject({ code: ErrorCode.PayloadTooLarge });
    expect(source.state.taken).toBeLessThan(source.chunks / 2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { PrismaService } from '#libs/database';
import type { IngestResult } from '#libs/records';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';

interface Answer<T> {
  status: number;
  connection?: string;
  body: T;
  /** When the answer arrived (ms since the epoch): the tests compare orders, never durations. */
  at: number;
}

const records = (prefix: string, count: number) =>
  Buffer.from(JSON.stringify(Array.from({ length: count }, (_, i) => ({ externalId: `${prefix}-${i}`, body: 'b', sentAt: '2025-01-06T09:00:00Z' }))));

/** Uploads across requests: one process reads at most UPLOAD_MAX_CONCURRENT at once, and a stalled one is let go. */
describe('Upload slots and stalled uploads (e2e)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await ApiHarness.start({ UPLOAD_MAX_CONCURRENT: '1', UPLOAD_IDLE_TIMEOUT_MS: '1000' });
  });
  afterAll(() => api.close());

  /** Sends the headers and `first` of a `declaredBytes` body, then nothing more unless `rest` is given. */
  function send<T>(path: string, token: string, first: Buffer, declaredBytes: number, rest?: Buffer): Promise<Answer<T>> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(new URL(path, api.baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': String(declaredBytes) },
      });
      req.on('error', () => undefined);
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            connection: res.headers.connection,
            body: JSON.parse(Buffer.concat(parts).toString('utf8')) as T,
            at: Date.now(),
          }),
        );
      });
      req.write(first);
      if (rest) req.end(rest);
    });
  }

  it('answers 408 UPLOAD_STALLED to a client that stops sending short of its Content-Length, stores nothing, and frees its slot for the next upload', async () => {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    const token = await api.newTenantToken(tenant.id);
    const path = `/v1/workspaces/${workspace.id}/records`;
    const stalledBody = records('stalled', 50);

    // holds the only slot: all but the last 10 bytes, then silence
    const stalled = send<ApiErrorBody>(path, token, stalledBody.subarray(0, stalledBody.length - 10), stalledBody.length);
    // waits for the slot with its body unread, then is read whole
    const whole = records('whole', 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = send<IngestResult>(path, token, whole, whole.length, Buffer.alloc(0));

    const [first, second] = await Promise.all([stalled, next]);
    expect(first.status).toBe(408);
    expect(first.body.error.code).toBe('UPLOAD_STALLED');
    expect(first.connection).toBe('close');
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ accepted: 20, rejected: [] });
    // the second was read only once the stalled one let its slot go
    expect(second.at).toBeGreaterThanOrEqual(first.at);
    const prisma = api.app.get(PrismaService);
    expect(await prisma.sourceRecord.count({ where: { workspaceId: workspace.id, externalId: { startsWith: 'stalled-' } } })).toBe(0);
    expect(await prisma.sourceRecord.count({ where: { workspaceId: workspace.id, externalId: { startsWith: 'whole-' } } })).toBe(20);
  });
});

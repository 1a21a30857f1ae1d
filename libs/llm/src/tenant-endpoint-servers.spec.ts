import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EgressPolicy } from '#libs/egress';
import { LlmClientFactory } from './llm-client.factory.js';
import { ProviderUnavailableError } from './llm.errors.js';
import { TENANT_ENDPOINT_MAX_ANSWER_BYTES } from './node-http-fetch.js';

const KEY = 'gw-hostile-0123456789abcdef';

/**
 * A tenant's own endpoint may be odd (no model list), broken or hostile: whatever it answers, a shared
 * worker keeps at most TENANT_ENDPOINT_MAX_ANSWER_BYTES of it and the call ends as a typed outcome.
 */
describe('Odd and hostile tenant endpoints (custom-openai, real openai SDK)', () => {
  let server: Server;
  let base: string;
  let sentBytes = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      if (request.url?.startsWith('/nolist/')) {
        // a gateway that serves completions but has no model list
        if (request.url.endsWith('/models')) return void response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        const ok = request.headers.authorization === `Bearer ${KEY}`;
        const body = ok
          ? {
              id: 'c',
              object: 'chat.completion',
              created: 1,
              model: 'm',
              choices: [{ index: 0, message: { role: 'assistant', content: 'p' }, finish_reason: 'length' }],
            }
          : { error: { message: 'bad key', type: 'invalid_request_error', code: 'invalid_api_key' } };
        return void response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }
      if (request.url?.includes('/redirect/')) {
        response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data' });
        return void response.end();
      }
      // an endless answer: 64 KiB chunks until the client hangs up
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!response.destroyed && response.write(chunk)) sentBytes += chunk.length;
        if (!response.destroyed) response.once('drain', pump);
      };
      response.on('close', () => undefined);
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const factory = () =>
    new LlmClientFactory({ baseUrls: {}, timeoutMs: 20_000, egress: new EgressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.1/32'] }) });

  it('cuts an endless answer at the cap and fails PROVIDER_UNAVAILABLE, without the key in the message', async () => {
    const llm = factory().create('custom-openai', KEY, { tenantLabel: 'acme', keyLast4: 'cdef' }, 'm', { baseUrl: `${base}/v1` });
    const error = await llm.complete({ system: 's', user: 'u' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('answer too large');
    expect((error as Error).message).not.toContain(KEY);
    // the server wrote until the socket closed: a little over the cap, never the whole stream
    expect(sentBytes).toBeLessThan(TENANT_ENDPOINT_MAX_ANSWER_BYTES * 4);
  });

  it('validates a key at a gateway without GET /models by a one-token completion', async () => {
    const at = (key: string) =>
      factory().create('custom-openai', key, { tenantLabel: 'acme', keyLast4: 'cdef' }, 'm', { baseUrl: `${base}/nolist/v1` });
    await expect(at(KEY).validateKey()).resolves.toBeUndefined();
    await expect(at(`${KEY}-wrong`).validateKey()).rejects.toMatchObject({ code: 'INVALID_API_KEY' });
  });

  it('does not follow a redirect to the metadata address', async () => {
    const llm = factory().create('custom-openai', KEY, { tenantLabel: 'acme', keyLast4: 'cdef' }, 'm', { baseUrl: `${base}/redirect/v1` });
    const error = await llm.complete({ system: 's', user: 'u' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toContain('redirect, not followed');
  });
});

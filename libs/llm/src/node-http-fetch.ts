import http from 'node:http';
import https from 'node:https';
import { egressLookup, type EgressPolicy } from '#libs/egress';

type FetchInput = string | URL | Request;

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * The most a tenant endpoint's answer may hold (bytes): far above any chat completion, small enough
 * that a hostile or broken server cannot fill a shared worker's memory.
 */
export const TENANT_ENDPOINT_MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** A tenant endpoint sent more than TENANT_ENDPOINT_MAX_ANSWER_BYTES: the connection was cut, nothing of it kept. */
export class AnswerTooLargeError extends Error {
  constructor() {
    super(`The endpoint's answer passed ${TENANT_ENDPOINT_MAX_ANSWER_BYTES} bytes and was not read`);
    this.name = 'AnswerTooLargeError';
  }
}

/**
 * The part of Response the SDK reads (status, headers, text, json), over a body already in memory:
 * a real Response would route it through web streams again, a large share of a call's CPU.
 * `body` and `clone()` fall back to a real Response for the rare caller that needs them.
 */
class BufferedResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = 'basic';
  bodyUsed = false;

  constructor(
    private readonly buffer: Buffer,
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
    readonly url: string,
  ) {
    this.ok = status >= 200 && status < 300;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.toResponse().body;
  }

  text(): Promise<string> {
    this.bodyUsed = true;
    return Promise.resolve(this.buffer.toString('utf8'));
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    this.bodyUsed = true;
    return Promise.resolve(this.buffer.buffer.slice(this.buffer.byteOffset, this.buffer.byteOffset + this.buffer.byteLength) as ArrayBuffer);
  }

  clone(): Response {
    return this.toResponse();
  }

  private toResponse(): Response {
    const body = NULL_BODY_STATUSES.has(this.status) ? null : this.buffer;
    return new Response(body, { status: this.status, statusText: this.statusText, headers: this.headers });
  }
}

/**
 * What the shim rejects with once the caller's signal has aborted (the SDK's deadline): an error of
 * this module's realm named `AbortError`, as fetch's own is. The SDK tells a timeout from a refused
 * connection by that name alone, and node:http's AbortError may come from another realm (Jest's VM
 * modules), where the SDK's `instanceof Error` fails and the name would be lost.
 */
function abortError(): Error {
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}

/**
 * A `fetch` for the openai SDK on node:http with keep-alive pools. Node's built-in fetch costs
 * several times more CPU per request, which bounds a backfill's throughput on a small machine.
 * Kept rather than undici's own `fetch` with an `Agent` dispatcher, which was measured in one
 * sitting with `npm run bench:backfill` (2 cores): 1,085 and 1,234 records/s at 0 ms latency against
 * 1,625 and 1,719 with this shim, and 80-81% against 89-90% of the ideal at 50 ms.
 * Connections are pooled per host, never per key: each request carries its own key header.
 * Bodies other than strings and bytes (multipart uploads) go through the built-in fetch.
 * No redirect is ever followed (node:http does not, the built-in fetch is told `manual`): a 3xx
 * reaches the SDK as the answer, so the key's header never travels to where Location points.
 *
 * With `egress` (a tenant's own endpoint), every request's URL is checked by the policy first and
 * every new connection dials only addresses the policy allows (egressLookup, at connect time); such
 * a fetch has its own connection pool and never falls back to the built-in fetch. A refusal rejects
 * with the EgressRefusedError, which the SDK hands on as its connection error's cause; an answer over
 * TENANT_ENDPOINT_MAX_ANSWER_BYTES cuts the connection and rejects with AnswerTooLargeError.
 */
export function createNodeHttpFetch(egress?: EgressPolicy): typeof fetch {
  const guard = egress ? { lookup: egressLookup(egress) } : {};
  const maxAnswerBytes = egress ? TENANT_ENDPOINT_MAX_ANSWER_BYTES : Number.POSITIVE_INFINITY;
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 256, ...guard }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 256, ...guard }),
  };
  return async (input: FetchInput, init: RequestInit = {}) => {
    const body = init.body;
    const signal = init.signal ?? undefined;
    // any failure after the signal aborted is the abort, whatever error the transport raised for it
    const fail = (error: unknown): never => {
      throw signal?.aborted ? abortError() : error;
    };
    const buffered = !(input instanceof Request) && (body == null || typeof body === 'string' || body instanceof Uint8Array);
    if (egress && !buffered) throw new Error('A tenant endpoint is only sent JSON bodies');
    if (!buffered) return fetch(input, { ...init, redirect: 'manual' }).catch(fail);
    const url = egress ? egress.checkUrl(String(input)) : new URL(String(input));
    const transport = url.protocol === 'https:' ? https : http;
    const agent = agents[url.protocol as 'http:' | 'https:'];
    if (!agent) return fetch(input, { ...init, redirect: 'manual' }).catch(fail);
    if (signal?.aborted) throw abortError();
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    return new Promise<Response>((resolve, reject) => {
      const rejectWith = (error: unknown) => reject(signal?.aborted ? abortError() : (error as Error));
      const request = transport.request(url, { method: init.method ?? 'GET', headers, agent, signal, ...guard }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxAnswerBytes) return void chunks.push(chunk);
          chunks.length = 0;
          reject(new AnswerTooLargeError());
          request.destroy();
        });
        response.on('error', rejectWith);
        response.on('end', () => {
          const status = response.statusCode ?? 500;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value === undefined) continue;
            for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
          }
          resolve(
            new BufferedResponse(Buffer.concat(chunks), status, response.statusMessage ?? '', responseHeaders, url.toString()) as unknown as Response,
          );
        });
      });
      request.on('error', rejectWith);
      if (body != null) request.write(body);
      request.end();
    });
  };
}

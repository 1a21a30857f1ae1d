import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { EgressFailedError, type EgressFailureKind, EgressRefusedError } from './egress.errors.js';
import type { EgressPolicy } from './egress-policy.js';

/** An outbound POST: a JSON (or any) body, its headers, and the whole exchange's deadline (ms). */
export interface EgressPost {
  headers: Readonly<Record<string, string>>;
  body: string;
  timeoutMs: number;
}

/** The answer's status line only: bodies are never read or kept (they may echo what they were sent). */
export interface EgressResponse {
  status: number;
}

/**
 * node:net's `lookup` for sockets to tenant-supplied hosts: it resolves every address of the host
 * and refuses (EgressRefusedError, as the socket's error) when ANY of them is not allowed by
 * `policy`, whichever would be dialled; the socket dials only what it returned, so a DNS answer that
 * changed since the URL was saved (DNS rebinding) meets the same check. Pass it to `http.request`
 * or an `http.Agent` (IP literals are not looked up: check them with EgressPolicy.checkUrl first).
 */
export function egressLookup(policy: EgressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, options.all ? [] : '', undefined);
      try {
        for (const { address } of addresses) policy.checkAddress(hostname, address);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, options.all ? [] : '', undefined);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * Outbound HTTP to URLs a tenant supplied (webhooks now, a tenant's own model endpoint later). The
 * URL is re-checked before every request, an IP literal is judged before connecting, and a host name
 * is resolved by a lookup that refuses when ANY address it returns is not allowed: the socket dials
 * only addresses that lookup returned, so a DNS answer that changes between save and send (DNS
 * rebinding) meets the same check. Redirects are never followed: a 3xx is an answer like any other.
 */
export class EgressClient {
  constructor(private readonly policy: EgressPolicy) {}

  /**
   * POSTs `request.body` to `url` and resolves with the status once the answer's head arrived.
   * @throws EgressRefusedError (the URL or an address it resolves to), EgressFailedError (timeout,
   *   DNS, connection, TLS: no answer)
   */
  async post(url: string, request: EgressPost): Promise<EgressResponse> {
    const target = this.policy.checkUrl(url);
    const host = target.hostname;
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise<EgressResponse>((resolve, reject) => {
      const outgoing = transport.request(
        target,
        {
          method: 'POST',
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          lookup: egressLookup(this.policy),
          agent: false,
          signal: AbortSignal.timeout(request.timeoutMs),
        },
        (response) => {
          resolve({ status: response.statusCode ?? 0 });
          response.on('error', () => undefined);
          response.destroy();
        },
      );
      outgoing.on('error', (error) => reject(asEgressError(error, host)));
      outgoing.end(request.body);
    });
  }
}

/** A request error as the typed error the caller stores: never the URL, never a message from the far end. */
function asEgressError(error: unknown, host: string): EgressRefusedError | EgressFailedError {
  if (error instanceof EgressRefusedError) return error;
  const failure = error as NodeJS.ErrnoException & { cause?: unknown };
  const kind = failureKind(failure);
  const words: Record<EgressFailureKind, string> = {
    timeout: 'did not answer in time',
    dns: 'could not be resolved',
    connection: 'refused or dropped the connection',
    tls: 'failed the TLS handshake',
    network: 'could not be reached',
  };
  return new EgressFailedError(kind, `${host} ${words[kind]}`);
}

function failureKind(error: NodeJS.ErrnoException): EgressFailureKind {
  if (error.name === 'AbortError' || error.name === 'TimeoutError' || error.code === 'ABORT_ERR') return 'timeout';
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' || error.code === 'ENODATA') return 'dns';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH'].includes(error.code ?? '')) return 'connection';
  if ((error.code ?? '').startsWith('ERR_TLS') || /CERT|SSL/.test(error.code ?? '')) return 'tls';
  return 'network';
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got, as sent. */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered with (null: held, never answered). */
  answeredWith: number | null;
}

/**
 * A real HTTP server that plays a tenant's webhook endpoint: it keeps every request and answers each
 * path from a script (`script('/flaky', [500, 500, 200])`; 204 once the script is used up, or by
 * default). `hold(path)` keeps that path's requests unanswered until `release()`, to kill a worker
 * mid-delivery. `verify` checks a request's Standard Webhooks signature with node:crypto alone, as a
 * receiver written against the spec would, not with the product's own signer.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly held = new Set<string>();
  private readonly waiting: (() => void)[] = [];
  private server: Server | undefined;
  private origin = '';

  /** Listens on `host` (a loopback address the test's EGRESS_ALLOWED_CIDRS permits) and a free port. */
  async start(host = '127.0.0.1'): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        const entry: ReceivedWebhook = { path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), answeredWith: null };
        this.received.push(entry);
        const answer = () => {
          const status = this.scripts.get(path)?.shift() ?? 204;
          entry.answeredWith = status;
          response.writeHead(status).end();
        };
        if (this.held.has(path)) this.waiting.push(answer);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, host, resolve));
    this.origin = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this.origin;
  }

  url(path: string): string {
    return `${this.origin}${path}`;
  }

  script(path: string, statuses: number[]): void {
    this.scripts.set(path, [...statuses]);
  }

  hold(path: string): void {
    this.held.add(path);
  }

  /** Answers every held request (by its script) and stops holding. */
  release(): void {
    this.held.clear();
    for (const answer of this.waiting.splice(0)) answer();
  }

  to(path: string): ReceivedWebhook[] {
    return this.received.filter((request) => request.path === path);
  }

  /** Standard Webhooks verification: HMAC-SHA256 keyed with the base64 after `whsec_`, over `id.timestamp.body`. */
  static verify(secret: string, request: Pick<ReceivedWebhook, 'headers' | 'body'>): boolean {
    const id = String(request.headers['webhook-id']);
    const timestamp = String(request.headers['webhook-timestamp']);
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest('base64'));
    return String(request.headers['webhook-signature'])
      .split(' ')
      .map((entry) => entry.split(','))
      .some(
        ([version, signature]) =>
          version === 'v1' &&
          signature !== undefined &&
          Buffer.byteLength(signature) === expected.length &&
          timingSafeEqual(Buffer.from(signature), expected),
      );
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { MetricsToken } from './bearer-token.js';
import { Metrics } from './metrics.js';

/**
 * A process without an HTTP API (the worker) serves its metrics on a port of its own: METRICS_PORT on
 * METRICS_HOST (loopback unless an operator opens it; the configuration refuses another address
 * without METRICS_TOKEN). `GET /metrics` only; with METRICS_TOKEN set it must come as a bearer token
 * (401 otherwise). Nothing is served when METRICS_PORT is unset, so several workers on one host never
 * compete for a port they were not given.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MetricsServer.name);
  private server: Server | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly token: MetricsToken,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { workerPort, workerHost } = this.config.metrics;
    if (workerPort === undefined) return;
    const server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(workerPort, workerHost, () => resolve());
    });
    this.server = server;
    const { address, port } = server.address() as AddressInfo;
    this.logger.log({ address, port }, `Metrics served on http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`);
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return this.reply(res, 404, 'Not found: metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.reply(res, 405, 'Use GET\n', { Allow: 'GET, HEAD' });
    if (this.token.configured && !this.token.inHeader(req.headers.authorization)) {
      return this.reply(res, 401, 'Send the metrics token as "Authorization: Bearer <token>"\n', { 'WWW-Authenticate': 'Bearer' });
    }
    try {
      const { contentType, text } = await this.metrics.exposition();
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
    } catch (error) {
      this.logger.error({ err: error }, 'Could not render the metrics');
      this.reply(res, 500, 'Metrics unavailable\n');
    }
  }

  private reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(text);
  }
}

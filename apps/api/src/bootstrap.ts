import { existsSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet, { type HelmetOptions } from 'helmet';
import { AppError, ErrorCode } from '#libs/common';
import type { AppConfig } from '#libs/config';
import { type LoggingOptions, PinoLoggerService } from '#libs/logging';
import { Metrics } from '#libs/metrics';
import { mountQueueBoard } from './admin/queue-board.js';
import { ApiModule } from './api.module.js';
import { applyBodyContents } from './http/api-body.js';
import { describeErrors } from './http/api-errors.js';
import { graphReadGate } from './http/graph-read-gate.js';
import { refuseDeepJson, refuseUnstorableText } from './http/json-input.js';
import { requestMetrics } from './http/request-metrics.js';
import { contentTypeOf, expectsContinue, isUploadPath } from './records/records.dto.js';

const BYOK_HEADERS = ['Authorization', 'Content-Type', 'X-API-Key', 'X-User-Provider', 'X-User-Api-Key', 'X-Request-Id'];

const API_DESCRIPTION = [
  'Multi-tenant LLM jobs that always run with the key of the tenant that owns the data.',
  '',
  'Every error answers `{ "error": { "code", "message" } }` (the `Error` schema); each operation lists the codes it can answer.',
  'A known path asked with a method it does not serve answers 405 `METHOD_NOT_ALLOWED` with an `Allow` header (before',
  'authentication: path templates are public here), OPTIONS on it 204 with `Allow`; an unknown path 404 `NOT_FOUND`.',
].join('\n');

const BEARER_DESCRIPTION =
  'An opaque token, not a JWT: a tenant token (`tt_` and 43 base64url characters, admin or read scope, its own tenant only) ' +
  'or the platform admin token (`ADMIN_API_TOKEN`, every tenant and the platform-only routes).';

/** Builds the HTTP app exactly as production runs it; tests use the same function. */
export async function createApiApp(config: AppConfig, logging: LoggingOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, logging), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(PinoLoggerService));
  // first, so every answer is timed, refusals before routing included
  app.use(requestMetrics(app.get(Metrics)));
  app.use(graphReadGate(config.graph.maxConcurrentRequests));
  // a body the JSON parser will not read would reach the handlers as no body at all (its fields
  // silently dropped): refused instead, before anything is parsed
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const type = contentTypeOf(req).mediaType;
    if (!isUploadPath(req) && carriesBody(req) && type !== 'application/json') {
      next(new AppError(ErrorCode.UnsupportedMediaType, `Send the request body as application/json (it came as ${type || 'no content type'})`));
      return;
    }
    next();
  });
  // Upload routes get no body parser: their handler reads the body as a stream once the guard has
  // checked the token and the handler the workspace, so no byte is read or inflated for a stranger.
  // `verify` is left out of useBodyParser's options type (Nest keeps it for rawBody, which this app
  // does not use) but passed on to the parser: it refuses a deeply nested body from its bytes
  const jsonOptions = {
    limit: '1mb',
    type: (req: IncomingMessage) => !isUploadPath(req) && contentTypeOf(req).mediaType === 'application/json',
    verify: refuseDeepJson,
  };
  // RFC 9110 section 10.1.1: a client that sent `Expect: 100-continue` waits for the interim 100
  // before its body. Node would send it at once; it is sent only when the body is about to be read
  // (here for JSON routes, after authentication and the workspace check for uploads), so a refused
  // upload is answered before the client sends a byte of it.
  const server: Server = app.getHttpServer();
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (expectsContinue(req) && !isUploadPath(req)) res.writeContinue();
    next();
  });
  app.useBodyParser('json', jsonOptions);
  app.use(refuseUnstorableText());
  app.enableShutdownHooks();
  app.enableCors({ origin: config.corsOrigins.length ? [...config.corsOrigins] : false, allowedHeaders: BYOK_HEADERS, maxAge: 600 });
  app.disable('x-powered-by');
  // req.ip, which the failed-auth limit counts by: the socket's address unless TRUST_PROXY names proxies
  app.set('trust proxy', config.trustProxy);

  const document = describeErrors(
    applyBodyContents(
      SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle('BYOK LLM backend')
          .setDescription(API_DESCRIPTION)
          .setVersion('1')
          // tokens are opaque random strings looked up by their hash, not JWTs a client could read
          .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: BEARER_DESCRIPTION })
          .build(),
      ),
    ),
  );
  app.use('/docs', helmet(DOCS_HEADERS));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  serveDashboard(app);
  mountQueueBoard(app);
  return app;
}

/** Whether a request has a body to read (RFC 9112 section 6.3: a Content-Length above 0, or chunked). */
function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Where `npm run build:dashboard` writes the tenant dashboard: dist/dashboard under the project root. */
export function dashboardDir(): string {
  // from apps/api/src (tests) or dist/apps/api/src (built), up to the folder with package.json
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dir, 'dist', 'dashboard');
}

/** The dashboard: self only, no inline script or style, no other origin, never framed. */
const DASHBOARD_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  workerSrc: ["'self'"],
  manifestSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * Headers of the pages a browser renders (helmet): a Content-Security-Policy (only the directives
 * given, no defaults added), never framed (X-Frame-Options DENY beside frame-ancestors for old
 * browsers), no referrer, same-origin opener and resources.
 */
function pageHeaders(directives: Record<string, string[]>): HelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  };
}

/**
 * Swagger UI at /docs: its page carries an inline <style> and the UI sets style attributes, so styles
 * may be inline; scripts and everything else come from this origin only.
 */
const DOCS_HEADERS = pageHeaders({ ...DASHBOARD_CSP, styleSrc: ["'self'", "'unsafe-inline'"] });

/**
 * The tenant dashboard's static files at /dashboard. Registered on the express app itself, so like
 * Swagger's /docs it answers before Nest's routing and its bearer guard: the page is public, the API
 * calls it makes carry the tenant's token. Hashed assets are cached for ever, index.html never.
 */
function serveDashboard(app: NestExpressApplication): void {
  const dir = dashboardDir();
  app.use('/dashboard', helmet(pageHeaders(DASHBOARD_CSP)));
  app.useStaticAssets(dir, {
    prefix: '/dashboard',
    index: 'index.html',
    redirect: true,
    dotfiles: 'ignore',
    fallthrough: true,
    setHeaders: (res: ServerResponse, path: string) => {
      const immutable = /-[A-Z0-9]{8}\.(js|css|svg)(\.map|\.LEGAL\.txt)?$/.test(path);
      res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // not built (yet): say how, rather than a bare 404
  app.use('/dashboard', (req: Request, res: Response, next: NextFunction) => {
    if (req.path !== '/' || existsSync(join(dir, 'index.html'))) return next();
    res.status(503).type('text/plain').send('The dashboard is not built: run `npm run build` (or `npm run build:dashboard`).\n');
  });
}

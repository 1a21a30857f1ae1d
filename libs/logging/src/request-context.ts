import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as Pino } from 'pino';
import type { HttpLogger } from 'pino-http';

/*
 * Why our own glue and not nestjs-pino: nestjs-pino 5 demands Node >= 22.12 (we support 20.19+) and
 * 4.x is CommonJS requiring the ESM-only Nest 12. pino and pino-http do the work; this file and
 * pino-logger.service.ts only bind them to Nest, as nestjs-pino 5 did.
 */

/**
 * The logger of the request being handled, if any: pino-http's child logger that carries the
 * request's bindings (`req`: id, method, path). One store for the process, as Nest's static logger
 * is one for the process: whichever app's logger a line goes through, a request's lines carry it.
 */
const requestLogger = new AsyncLocalStorage<Pino>();

/** The logger bound to the current request, or undefined outside one. */
export function currentRequestLogger(): Pino | undefined {
  return requestLogger.getStore();
}

/**
 * Express/Connect middleware: pino-http logs the request when its response finishes, and the rest of
 * the request's handling runs with pino-http's request logger bound, so every line logged while
 * handling it carries the request's bindings.
 */
export function requestLoggingMiddleware(httpLogger: HttpLogger): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    httpLogger(req, res);
    // the last one pino-http pushed: the request logger of this app's pino-http (req.log keeps the first)
    const logs = (req as IncomingMessage & { allLogs?: Pino[] }).allLogs;
    requestLogger.run(logs?.[logs.length - 1] ?? httpLogger.logger, next);
  };
}

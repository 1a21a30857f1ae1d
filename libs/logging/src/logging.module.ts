import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type DynamicModule, Inject, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { type HttpLogger, pinoHttp } from 'pino-http';
import PinoPretty from 'pino-pretty';
import { AppConfig, type LogFormat } from '#libs/config';
import { PinoLoggerService } from './pino-logger.service.js';
import { REDACT_PATHS, REDACTED } from './redaction.js';
import { requestLoggingMiddleware } from './request-context.js';

/** The app's pino-http instance: its `logger` is the app's root pino logger. */
const HTTP_LOGGER = Symbol('HTTP_LOGGER');

export interface LoggingOptions {
  /** Where log lines go (tests capture them to prove no key is ever written); stdout by default. */
  destination?: DestinationStream;
}

/**
 * The format a process logs in: LOG_FORMAT when set, else pretty for a terminal (a person reading
 * `npm start`) and JSON for anything else (a log collector, a pipe, a test).
 */
export function logFormatFor(configured: LogFormat | undefined, stdoutIsTty: boolean): LogFormat {
  return configured ?? (stdoutIsTty ? 'pretty' : 'json');
}

/**
 * Logs (pino) for the API and the worker, with redaction and a request id: JSON lines, or
 * pino-pretty's human-readable ones in a terminal (see logFormatFor). Redaction happens before either.
 * Provides PinoLoggerService (for `app.useLogger(app.get(PinoLoggerService))`); in an HTTP app it
 * also logs every request but /health and binds the request to the lines logged while handling it
 * (Nest calls `configure` only for HTTP apps, so the worker's application context gets no middleware).
 */
@Module({})
export class LoggingModule implements NestModule {
  constructor(@Inject(HTTP_LOGGER) private readonly httpLogger: HttpLogger) {}

  /** @public called by Nest for an HTTP app only */
  configure(consumer: MiddlewareConsumer): void {
    // every route; path-to-regexp v8 (express 5) spells the wildcard with a name, and `{/*splat}` also matches `/`
    consumer.apply(requestLoggingMiddleware(this.httpLogger)).forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }

  static forRoot(config: AppConfig, options: LoggingOptions = {}): DynamicModule {
    const pinoOptions = {
      level: config.logLevel,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      genReqId: (req: IncomingMessage) => {
        const incoming = req.headers['x-request-id'];
        return typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
      },
      // request lines carry method, url path and status; never bodies or query strings (Gemini puts keys in ?key=)
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
    };
    // synchronous and in this thread: a transport would add a worker thread to the memory-capped worker
    const destination =
      options.destination ??
      (logFormatFor(config.logFormat, process.stdout.isTTY === true) === 'pretty'
        ? PinoPretty({
            sync: true,
            colorize: process.stdout.isTTY === true,
            // one line per entry: the Nest context before the message, not on a line of its own
            messageFormat: '{if context}[{context}] {end}{msg}',
            ignore: 'pid,hostname,context',
          })
        : undefined);
    const httpLogger = pinoHttp(pinoOptions, destination);
    return {
      module: LoggingModule,
      providers: [
        { provide: HTTP_LOGGER, useValue: httpLogger },
        { provide: PinoLoggerService, useValue: new PinoLoggerService(httpLogger.logger) },
      ],
      exports: [PinoLoggerService],
    };
  }
}

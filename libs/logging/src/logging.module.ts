import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import PinoPretty from 'pino-pretty';
import { AppConfig, type LogFormat } from '#libs/config';
import { REDACT_PATHS, REDACTED } from './redaction.js';

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
 */
@Module({})
export class LoggingModule {
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
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: destination ? [pinoOptions, destination] : pinoOptions })],
    };
  }
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppConfig } from '#libs/config';
import { REDACT_PATHS, REDACTED } from './redaction.js';

export interface LoggingOptions {
  /** Where log lines go (tests capture them to prove no key is ever written); stdout by default. */
  destination?: DestinationStream;
}

/** Structured JSON logs (pino) for the API and the worker, with redaction and a request id. */
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
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: options.destination ? [pinoOptions, options.destination] : pinoOptions })],
    };
  }
}

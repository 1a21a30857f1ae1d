import type { LoggerService } from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { currentRequestLogger } from './request-context.js';

type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's LoggerService over pino (see request-context.ts for why it is not nestjs-pino): maps Nest's
 * calling conventions exactly as nestjs-pino 5's `Logger` did, so log lines keep their shape.
 *
 * - `new Logger('Ctx').log(...)` reaches here with 'Ctx' as the last argument: it becomes `context`.
 * - An object first is merged into the line (`log({ tenantId }, 'msg')`); an Error first goes under `err`.
 * - A string first is the message; arguments between it and the context are printf-style (`%s`, `%d`).
 * - Nest's exception handlers call `error(message, stack)`: logged as `err` with that stack.
 * - verbose is pino's trace (10), debug 20, log info 30, warn 40, error 50, fatal 60.
 *
 * Lines go through the request's logger while handling a request (they carry `req`), else `root`.
 */
export class PinoLoggerService implements LoggerService {
  /** `root`: the app's pino logger, used outside a request. */
  constructor(private readonly root: Pino) {}

  /** Nest's verbose, pino's trace (10). @public called by Nest's Logger */
  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.call('trace', message, optionalParams);
  }

  /** At debug (20). @public called by Nest's Logger */
  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.call('debug', message, optionalParams);
  }

  /** Nest's log, pino's info (30). @public called by Nest's Logger */
  log(message: unknown, ...optionalParams: unknown[]): void {
    this.call('info', message, optionalParams);
  }

  /** At warn (40). @public called by Nest's Logger */
  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.call('warn', message, optionalParams);
  }

  /** At error (50). @public called by Nest's Logger */
  error(message: unknown, ...optionalParams: unknown[]): void {
    this.call('error', message, optionalParams);
  }

  /** At fatal (60). @public called by Nest's Logger */
  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.call('fatal', message, optionalParams);
  }

  private call(level: PinoLevel, message: unknown, optionalParams: unknown[]): void {
    const logger = currentRequestLogger() ?? this.root;
    const fields: Record<string, unknown> = {};
    // Nest appends the context last (also when it is undefined); what comes before is printf arguments
    let params: unknown[] = [];
    if (optionalParams.length !== 0) {
      fields.context = optionalParams[optionalParams.length - 1];
      params = optionalParams.slice(0, -1);
    }
    if (typeof message === 'object') {
      if (message instanceof Error) fields.err = message;
      else Object.assign(fields, message);
      logger[level](fields, ...(params as [string?, ...unknown[]]));
    } else if (isExceptionHandlerContract(level, message, params)) {
      const err = new Error(message as string);
      err.stack = params[0];
      fields.err = err;
      logger[level](fields);
    } else {
      logger[level](fields, message as string, ...params);
    }
  }
}

/**
 * Nest's built-in exception handlers call `error(message, stack)`, the stack where a context or a
 * printf argument would be: recognised by the stack's `at` lines.
 */
function isExceptionHandlerContract(level: PinoLevel, message: unknown, params: unknown[]): params is [string] {
  return level === 'error' && typeof message === 'string' && params.length === 1 && typeof params[0] === 'string' && /\n\s*at /.test(params[0]);
}

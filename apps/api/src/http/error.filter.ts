import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppError, ErrorCode, TooManyRequestsError } from '#libs/common';
import { asDatabaseUnavailable } from '#libs/database';
import { GraphReadAbortedError } from '#libs/graphrag';
import { httpStatusOf } from './error-status.js';
import { allowedMethods, MethodNotAllowedError } from './method-not-allowed.js';

/** How long (s) a client told 503 (a dependency is down) should wait before trying again. */
const RETRY_AFTER_S = 2;
const UNAVAILABLE: number = HttpStatus.SERVICE_UNAVAILABLE;

interface ErrorBody {
  error: { code: string; message: string; requestId?: string };
}

/**
 * Every error leaves the API as `{ error: { code, message } }`; anything unexpected is a 500, logged
 * once. Postgres being away, however the driver put it, is a 503 DATABASE_UNAVAILABLE; every 503
 * carries Retry-After, and so does a 429 for a rate limit (the limiter's own wait). An answer given before the request's body was all read closes the connection.
 *
 * No route for the request's method: Nest's 404 reaches here. When another method's route has the
 * path it is 405 METHOD_NOT_ALLOWED with `Allow` (an OPTIONS request gets 204 with `Allow` instead),
 * else 404. This is decided by routing, before the guard runs: a wrong method answers 405 with or
 * without a token, which tells only that a path template exists, and the templates are public
 * (/docs). Whether a tenant's resource exists is never told: the template matches any id.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(ErrorFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request & { id?: string }>();
    const response = http.getResponse<Response>();
    // the client went away (its read was cancelled): nobody is left to answer, and nothing failed
    if (thrown instanceof GraphReadAbortedError) {
      this.logger.debug({ requestId: request.id }, thrown.message);
      return;
    }
    let exception = thrown;
    if (isUnknownRoute(thrown)) {
      const allow = allowedMethods(this.adapterHost.httpAdapter.getInstance(), request.path);
      if (allow.length > 0 && request.method === 'OPTIONS') {
        response.setHeader('Allow', allow.join(', '));
        response.status(HttpStatus.NO_CONTENT).end();
        return;
      }
      if (allow.length > 0) exception = new MethodNotAllowedError(request.method, allow);
    }
    if (exception instanceof MethodNotAllowedError) response.setHeader('Allow', exception.allow.join(', '));
    const [status, body] = this.toResponse(asDatabaseUnavailable(exception) ?? exception, String(request.id ?? ''));
    if (status === UNAVAILABLE) response.setHeader('Retry-After', String(RETRY_AFTER_S));
    if (exception instanceof TooManyRequestsError) response.setHeader('Retry-After', String(exception.retryAfterS));
    // refused before its body was all read (an upload without a valid token, past a cap): Node would read
    // the rest to keep the connection (50 MB for nothing); closed after the answer instead (RFC 9112 section 9.6)
    if (!request.complete) response.setHeader('Connection', 'close');
    response.status(status).json(body);
  }

  private toResponse(thrown: unknown, requestId: string): [number, ErrorBody] {
    // a typed error thrown inside the body parser (its verify hook) reaches here wrapped by Nest as
    // an HttpException carrying the parser's status: the error's own code decides the answer
    const exception = thrown instanceof HttpException && thrown.cause instanceof AppError ? thrown.cause : thrown;
    if (exception instanceof AppError) {
      const status = httpStatusOf(exception.code);
      if (status === UNAVAILABLE) this.logger.warn({ code: exception.code, requestId }, exception.message);
      else if (status >= 500) this.logger.error({ err: exception, requestId }, exception.message);
      return [status, body(exception.code, exception.message, status >= 500 ? requestId : undefined)];
    }
    const parserError = bodyParserError(exception);
    if (parserError) return parserError;
    // the router's "Failed to decode param '<the raw segment>'": a key pasted into a URL would come back
    if (exception instanceof HttpException && exception.cause instanceof URIError) {
      return [
        HttpStatus.BAD_REQUEST,
        body(ErrorCode.ValidationFailed, 'The path holds a malformed percent-encoding (% must be followed by two hex digits)'),
      ];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Nest's own 404 for an unknown route quotes the URL with its query string ("Cannot GET
      // /x?key=..."): a key pasted into a URL would come back in the answer, so it is never echoed
      if (isUnknownRoute(exception)) {
        return [status, body(ErrorCode.NotFound, 'No such route; the routes are listed at /docs')];
      }
      return [status, body(codeForStatus(status), messageOf(exception))];
    }
    this.logger.error({ err: exception, requestId }, 'Unhandled error');
    return [HttpStatus.INTERNAL_SERVER_ERROR, body(ErrorCode.Internal, 'Internal error; quote the request id when reporting it', requestId)];
  }
}

/**
 * Nest's own 404 for a request no route serves (its not-found handler throws a bare
 * NotFoundException; the product's own not-found errors are AppErrors).
 */
function isUnknownRoute(exception: unknown): boolean {
  return exception instanceof NotFoundException && exception.constructor === NotFoundException;
}

function body(code: string, message: string, requestId?: string): ErrorBody {
  return { error: requestId ? { code, message, requestId } : { code, message } };
}

/** Express's body parser reports bad JSON and oversize bodies as errors with a `type` (Nest wraps them as the cause). */
function bodyParserError(exception: unknown): [number, ErrorBody] | undefined {
  const source = exception instanceof HttpException ? exception.cause : exception;
  const type = (source as { type?: unknown } | null | undefined)?.type;
  if (type === 'entity.parse.failed') return [HttpStatus.BAD_REQUEST, body(ErrorCode.MalformedJson, 'The request body is not valid JSON')];
  if (type === 'entity.too.large') return [HttpStatus.PAYLOAD_TOO_LARGE, body(ErrorCode.PayloadTooLarge, 'The request body is too large')];
  return undefined;
}

const CODE_OF_STATUS: Readonly<Partial<Record<number, ErrorCode>>> = {
  [HttpStatus.NOT_FOUND]: ErrorCode.NotFound,
  [HttpStatus.UNAUTHORIZED]: ErrorCode.Unauthenticated,
  [HttpStatus.FORBIDDEN]: ErrorCode.Forbidden,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCode.PayloadTooLarge,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: ErrorCode.UnsupportedMediaType,
};

/** The code of an HttpException Nest raised itself (an unknown route, a refused method). */
function codeForStatus(status: number): ErrorCode {
  return CODE_OF_STATUS[status] ?? (status >= 400 && status < 500 ? ErrorCode.ValidationFailed : ErrorCode.Internal);
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { describeUnstorableText, findUnstorableText, JSON_MAX_DEPTH, jsonNestingExceeds, ValidationFailedError } from '#libs/common';

/**
 * The JSON parser's `verify` hook: a body nesting arrays or objects deeper than JSON_MAX_DEPTH is
 * refused (400 VALIDATION_FAILED) from its bytes, before JSON.parse builds anything of it.
 */
export function refuseDeepJson(_req: IncomingMessage, _res: unknown, bytes: Buffer): void {
  if (jsonNestingExceeds(bytes, JSON_MAX_DEPTH)) {
    throw new ValidationFailedError(`The request body nests arrays or objects deeper than ${JSON_MAX_DEPTH} levels`);
  }
}

/**
 * The API's one rule for text Postgres cannot store: a NUL character or a lone UTF-16 surrogate
 * anywhere in a JSON body (values and property names) or in the query string is refused with 400
 * VALIDATION_FAILED naming the field, before any handler runs; nothing is removed silently. Upload
 * routes (records, mbox) are judged row by row by the record schema instead, which rejects such a
 * row by its index and stores the others. Registered right after the JSON parser in bootstrap.ts.
 */
export function refuseUnstorableText(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const inBody = Buffer.isBuffer(req.body) ? undefined : findUnstorableText(req.body);
    if (inBody) {
      next(new ValidationFailedError(describeUnstorableText(inBody, 'the request body')));
      return;
    }
    const inQuery = findUnstorableText(req.query);
    if (inQuery) {
      next(new ValidationFailedError(describeUnstorableText(inQuery, 'the query string')));
      return;
    }
    next();
  };
}

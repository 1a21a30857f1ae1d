import { ApiExtension, type OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import { ErrorCode } from '#libs/common';
import { httpStatusOf } from './error-status.js';
import { ERROR_EXAMPLES } from './error-examples.js';
import { openApiSchema } from './zod-validation.js';

/** The one error body of the API, as the exception filter writes it; `#/components/schemas/Error` in the document. */
export const errorBody = z.object({
  error: z.object({
    code: z.enum(ErrorCode).meta({ description: 'Stable: clients branch on it' }),
    message: z.string().meta({ description: 'Human-readable; never contains key material' }),
    requestId: z.string().optional().meta({ description: 'On 5xx answers only: quote it when reporting the error' }),
  }),
});

const ERROR_SCHEMA = 'Error';
const ERROR_REF = `#/components/schemas/${ERROR_SCHEMA}`;

// operation extensions: what the decorators below tell describeErrors
const ERROR_CODES = 'x-error-codes';
const PLATFORM_ONLY = 'x-platform-only';
const ADMIN_SCOPE = 'x-admin-scope';

/** A marker so that a second @ApiErrors on one handler fails at start-up instead of being silently ignored. */
const DECLARED = Symbol('api-errors-declared');

/**
 * Documents the errors a route raises itself (its handler and services: not found, conflicts,
 * refusals). Those every route of its kind can answer (authentication, rate limits, read-only
 * tokens, validation of parameters and JSON bodies, a database away) are added by describeErrors from
 * the operation, so they are never repeated here. One per handler.
 */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator {
  return (target, key, descriptor) => {
    const handler = descriptor.value as object & { [DECLARED]?: true };
    if (handler[DECLARED]) throw new Error(`${String(key)} declares its errors twice: list them in one @ApiErrors`);
    handler[DECLARED] = true;
    ApiExtension(ERROR_CODES, codes)(target, key, descriptor);
  };
}

/** Marks a platform-only route in the document (403 FORBIDDEN for tenant tokens); applied by @PlatformOnly(). */
export const ApiPlatformOnly = () => ApiExtension(PLATFORM_ONLY, true);

/** Marks a reading route a read-scope token may not call (403 TOKEN_READ_ONLY); applied by @AdminScope(). */
export const ApiAdminScope = () => ApiExtension(ADMIN_SCOPE, true);

const WRITES = new Set(['post', 'put', 'patch', 'delete']);

interface Operation {
  security?: unknown[];
  parameters?: { in?: string; name?: string }[];
  requestBody?: { content?: Record<string, unknown> };
  responses: Record<string, unknown>;
  [extension: `x-${string}`]: unknown;
}

/**
 * Completes the document's error answers: declares the error body once (`components.schemas.Error`),
 * and gives every operation its 4xx and 5xx responses, one per status, each referencing that schema
 * and listing the codes the route can answer (in the description, as `x-error-codes`, and as one
 * example per code). The codes are what the route declared (@ApiErrors) and what its kind implies:
 * - every route: 400 VALIDATION_FAILED (a query string with text Postgres cannot store) and 415 (a
 *   body that is not JSON);
 * - a route that needs a token: 401 UNAUTHENTICATED, 429 TOO_MANY_AUTH_FAILURES, 503 DATABASE_UNAVAILABLE;
 *   platform-only 403 FORBIDDEN; a write (or @AdminScope) by a read-scope token 403 TOKEN_READ_ONLY; a
 *   tenant's write 429 TOO_MANY_WRITES;
 * - a JSON body: 400 MALFORMED_JSON, 413 PAYLOAD_TOO_LARGE; the BYOK headers: their three codes.
 */
export function describeErrors(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = { ...document.components.schemas, [ERROR_SCHEMA]: openApiSchema(errorBody, 'output') };
  for (const operations of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(operations as Record<string, Operation>)) {
      if (!WRITES.has(method) && method !== 'get') continue;
      const codes = impliedCodes(method, operation);
      for (const code of (operation[ERROR_CODES] as ErrorCode[] | undefined) ?? []) codes.add(code);
      operation[ERROR_CODES] = [...codes].sort();
      for (const [status, ofStatus] of byStatus(codes)) operation.responses[String(status)] = errorResponse(status, ofStatus);
    }
  }
  return document;
}

function impliedCodes(method: string, operation: Operation): Set<ErrorCode> {
  const codes = new Set<ErrorCode>([ErrorCode.ValidationFailed, ErrorCode.UnsupportedMediaType]);
  const secured = (operation.security?.length ?? 0) > 0;
  const platformOnly = operation[PLATFORM_ONLY] === true;
  if (secured) [ErrorCode.Unauthenticated, ErrorCode.TooManyAuthFailures, ErrorCode.DatabaseUnavailable].forEach((c) => codes.add(c));
  if (platformOnly) codes.add(ErrorCode.Forbidden);
  // the guard refuses a tenant token on a platform-only route before it looks at its scope or counts its writes
  if (secured && !platformOnly && (WRITES.has(method) || operation[ADMIN_SCOPE] === true)) codes.add(ErrorCode.TokenReadOnly);
  if (secured && !platformOnly && WRITES.has(method)) codes.add(ErrorCode.TooManyWrites);
  if (operation.requestBody?.content?.['application/json'] !== undefined)
    [ErrorCode.MalformedJson, ErrorCode.PayloadTooLarge].forEach((c) => codes.add(c));
  if (operation.parameters?.some((p) => p.in === 'header' && p.name?.toLowerCase() === 'x-user-provider')) {
    [ErrorCode.ByokHeadersIncomplete, ErrorCode.ByokProviderUnknown, ErrorCode.ByokKeyInvalid].forEach((c) => codes.add(c));
  }
  return codes;
}

function byStatus(codes: Set<ErrorCode>): Map<number, ErrorCode[]> {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of [...codes].sort()) {
    const status = httpStatusOf(code);
    groups.set(status, [...(groups.get(status) ?? []), code]);
  }
  return groups;
}

const RETRY_AFTER = { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } };

function errorResponse(status: number, codes: ErrorCode[]) {
  return {
    description: codes.map((code) => `\`${code}\``).join(', '),
    ...(status === 429 || status === 503 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
    content: {
      'application/json': {
        schema: { $ref: ERROR_REF },
        examples: Object.fromEntries(codes.map((code) => [code, { summary: code, value: { error: { code, message: ERROR_EXAMPLES[code] } } }])),
      },
    },
  };
}

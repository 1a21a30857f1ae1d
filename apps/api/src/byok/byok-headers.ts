import type { IncomingHttpHeaders } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { Request } from 'express';
import { keyShapeProblem } from '#libs/byok';
import { ErrorCode, isProviderId, PROVIDER_IDS, type RequestKey, ValidationFailedError } from '#libs/common';

export const PROVIDER_HEADER = 'x-user-provider';
export const KEY_HEADER = 'x-user-api-key';

/**
 * Reads the BYOK headers: both absent -> no request key; one alone, an unknown provider or a
 * malformed key -> 400. Errors never echo the key.
 */
export function parseByokHeaders(headers: IncomingHttpHeaders): RequestKey | undefined {
  const provider = headerValue(headers, PROVIDER_HEADER);
  const key = headerValue(headers, KEY_HEADER);
  if (provider === undefined && key === undefined) return undefined;
  if (provider === undefined || key === undefined) {
    throw new ValidationFailedError('Send X-User-Provider and X-User-Api-Key together, or neither', ErrorCode.ByokHeadersIncomplete);
  }
  const normalizedProvider = provider.toLowerCase();
  if (!isProviderId(normalizedProvider)) {
    throw new ValidationFailedError(`X-User-Provider must be one of ${PROVIDER_IDS.join(', ')}`, ErrorCode.ByokProviderUnknown);
  }
  const problem = keyShapeProblem(key);
  if (problem) throw new ValidationFailedError(`X-User-Api-Key ${problem}`, ErrorCode.ByokKeyInvalid);
  return { provider: normalizedProvider, key };
}

/** An empty or blank header counts as absent; a repeated one is refused rather than guessed at. */
function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  if (Array.isArray(raw)) throw new ValidationFailedError(`Send ${name} once`, ErrorCode.ByokKeyInvalid);
  const value = raw?.trim();
  return value ? value : undefined;
}

/** The request-scoped key of this request, if it sent one (see parseByokHeaders). */
export const RequestScopedKey = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestKey | undefined =>
  parseByokHeaders(ctx.switchToHttp().getRequest<Request>().headers),
);

/** Documents the two headers on an endpoint. */
export const ApiByokHeaders = () =>
  applyDecorators(
    ApiHeader({ name: 'X-User-Provider', required: false, description: `Provider of X-User-Api-Key: ${PROVIDER_IDS.join(', ')}` }),
    ApiHeader({ name: 'X-User-Api-Key', required: false, description: 'Your own key for this request only; never stored' }),
  );

import type { IncomingHttpHeaders } from 'node:http';
import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { keyShapeProblem } from '#libs/byok';
import { ErrorCode, isProviderId, PROVIDER_IDS, type RequestKey, ValidationFailedError } from '#libs/common';

export const PROVIDER_HEADER = 'x-user-provider';
export const KEY_HEADER = 'x-user-api-key';

/** A zod issue that carries the error code its refusal answers with. */
function refuse(ctx: z.RefinementCtx, message: string, errorCode: ErrorCode): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, params: { errorCode } });
  return z.NEVER;
}

/** An empty or blank header counts as absent; a repeated one is refused rather than guessed at. */
const headerValue = (name: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value, ctx) => {
      if (Array.isArray(value)) return refuse(ctx, `Send ${name} once`, ErrorCode.ByokKeyInvalid);
      return value?.trim() || undefined;
    });

/**
 * The BYOK headers: both absent -> no request key; one alone, an unknown provider or a malformed
 * key -> a refusal with its own code. Messages never quote the key.
 */
export const byokHeaders = z
  .object({ [PROVIDER_HEADER]: headerValue(PROVIDER_HEADER), [KEY_HEADER]: headerValue(KEY_HEADER) })
  .transform((headers, ctx): RequestKey | undefined => {
    const provider = headers[PROVIDER_HEADER]?.toLowerCase();
    const key = headers[KEY_HEADER];
    if (provider === undefined && key === undefined) return undefined;
    if (provider === undefined || key === undefined) {
      return refuse(ctx, 'Send X-User-Provider and X-User-Api-Key together, or neither', ErrorCode.ByokHeadersIncomplete);
    }
    if (!isProviderId(provider)) return refuse(ctx, `X-User-Provider must be one of ${PROVIDER_IDS.join(', ')}`, ErrorCode.ByokProviderUnknown);
    const problem = keyShapeProblem(key);
    if (problem) return refuse(ctx, `X-User-Api-Key ${problem}`, ErrorCode.ByokKeyInvalid);
    return { provider, key };
  });

/**
 * Reads the BYOK headers of a request (see byokHeaders).
 * @throws ValidationFailedError with BYOK_HEADERS_INCOMPLETE, BYOK_PROVIDER_UNKNOWN or BYOK_KEY_INVALID
 */
export function parseByokHeaders(headers: IncomingHttpHeaders): RequestKey | undefined {
  const parsed = byokHeaders.safeParse(headers);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const errorCode = (issue?.code === 'custom' ? (issue.params?.errorCode as ErrorCode | undefined) : undefined) ?? ErrorCode.ByokKeyInvalid;
  throw new ValidationFailedError(issue?.message ?? 'Invalid BYOK headers', errorCode);
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

import { AppError, ErrorCode, modelSettingFor, type ProviderId } from '#libs/common';
import type { TokenUsage } from './llm-provider.js';

/**
 * Every provider failure is one of these. `retryable` decides whether a job backs off and tries
 * again or ends at once; an authentication failure never falls back to another key or provider.
 */
export class LlmError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly provider: ProviderId,
    readonly retryable: boolean,
  ) {
    super(code, message);
  }
}

/** A provider was handed an empty key: refused before anything is sent. */
export class EmptyApiKeyError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.NoApiKey, message, provider, false);
  }
}

export class AuthenticationError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.InvalidApiKey, message, provider, false);
  }
}

/**
 * The provider accepted the key but does not list the model (the tenant's `<PROVIDER>_MODEL`): found
 * when the key is validated, so a job ends before its first record instead of failing every one. The
 * message names the model and the provider, never the key.
 */
export class ModelNotAvailableError extends LlmError {
  constructor(
    provider: ProviderId,
    readonly model: string,
  ) {
    super(ErrorCode.ModelNotAvailable, modelNotAvailableMessage(provider, model), provider, false);
  }
}

function modelNotAvailableMessage(provider: ProviderId, model: string): string {
  const setting = modelSettingFor(provider);
  if (provider === 'azure-openai')
    return `The Azure OpenAI resource has no deployment "${model}" this key can use. Set ${setting} to a deployment of the resource.`;
  if (provider === 'custom-openai')
    return `The tenant's endpoint does not list the model "${model}". Set ${setting} to a model its GET /models lists.`;
  return `${provider} does not offer the model "${model}" to this key. Set ${setting} to a model the provider lists, or delete it to use the default.`;
}

/**
 * The egress policy refused a tenant endpoint's URL or the address it resolved to, at connect time
 * (EGRESS_REFUSED): nothing was sent, and trying again reaches the same address. The message names
 * at most the host, never the path or the key.
 */
export class EndpointRefusedError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.EgressRefused, message, provider, false);
  }
}

export class RateLimitedError extends LlmError {
  constructor(
    provider: ProviderId,
    message: string,
    /** What the provider asked us to wait, when it said. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(ErrorCode.RateLimited, message, provider, true);
  }
}

export class ProviderUnavailableError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.ProviderUnavailable, message, provider, true);
  }
}

/**
 * The provider answered, but the answer cannot be used for this input: refused, blocked, cut off,
 * or no JSON even after repair. Sending the same input again would fail the same way, so it is not
 * retried; a job stores it against the one record and goes on. `finishReason` is the provider's own
 * word for how the answer ended (OpenAI's finish_reason, Gemini's finishReason or blockReason).
 */
export class UnusableAnswerError extends LlmError {
  /** The tokens the provider billed for the unusable answer, when it said: usage accounting counts them too. */
  usage?: TokenUsage;

  constructor(
    code: ErrorCode,
    provider: ProviderId,
    message: string,
    readonly finishReason: string | undefined,
  ) {
    super(code, message, provider, false);
  }
}

/** The model declined (OpenAI's `refusal`). */
export class AnswerRefusedError extends UnusableAnswerError {
  constructor(provider: ProviderId, message: string, finishReason?: string) {
    super(ErrorCode.ExtractionRefused, provider, message, finishReason);
  }
}

/** A safety or recitation filter blocked the prompt or the answer. */
export class AnswerBlockedError extends UnusableAnswerError {
  constructor(provider: ProviderId, message: string, finishReason?: string) {
    super(ErrorCode.ContentBlocked, provider, message, finishReason);
  }
}

/** The answer was cut off at the output limit (finish_reason "length", Gemini MAX_TOKENS). */
export class AnswerTruncatedError extends UnusableAnswerError {
  constructor(provider: ProviderId, message: string, finishReason?: string) {
    super(ErrorCode.ExtractionTruncated, provider, message, finishReason);
  }
}

/** Asked for JSON, the model answered something no repair turns into JSON. */
export class AnswerUnparsableError extends UnusableAnswerError {
  constructor(provider: ProviderId, message: string, finishReason?: string) {
    super(ErrorCode.ExtractionUnparsable, provider, message, finishReason);
  }
}

/**
 * The provider refused this particular request (a 400, 404, 422...): sending it again would fail
 * the same way, so unlike ProviderUnavailableError it is not retryable. It keeps the
 * PROVIDER_UNAVAILABLE code because clients already branch on that one.
 */
export class ProviderRequestError extends LlmError {
  constructor(provider: ProviderId, message: string) {
    super(ErrorCode.ProviderUnavailable, message, provider, false);
  }
}

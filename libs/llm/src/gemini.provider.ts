import { FinishReason, type GenerateContentResponse, GoogleGenerativeAI } from '@google/generative-ai';
import { withDeadline } from './deadline.js';
import { failureForGoogleReply, mapGeminiError } from './gemini-errors.js';
import { parseJsonAnswer, withSchemaInstruction } from './json-answer.js';
import { ModelNotAvailableError } from './llm.errors.js';
import { refuseRedirectsInGlobalFetch } from './no-redirect-fetch.js';
import type { CompletionRequest, CompletionResult, KeyContext, LlmProvider } from './llm-provider.js';
import { usageOf, withUsageOnFailure } from './token-usage.js';
import { ProviderFailures } from './provider-failures.js';

/** Gemini's models list page size limit; a handful of pages covers every model it offers. */
const MODEL_PAGE_SIZE = 1000;
const MAX_MODEL_PAGES = 5;

/** Finish reasons that mean a filter stopped the answer (Gemini's FinishReason). */
const BLOCKING_FINISH_REASONS: ReadonlySet<string> = new Set([
  FinishReason.SAFETY,
  FinishReason.RECITATION,
  FinishReason.BLOCKLIST,
  FinishReason.PROHIBITED_CONTENT,
  FinishReason.SPII,
]);

export interface GeminiOptions {
  key: string;
  /** The root before the API version, e.g. https://generativelanguage.googleapis.com. */
  baseUrl: string;
  model: string;
  timeoutMs: number;
  context: KeyContext;
}

/**
 * Gemini through @google/generative-ai, which sends the key in the `x-goog-api-key` header.
 * JSON mode is `responseMimeType`; the JSON Schema goes into the system instruction because
 * Gemini's `responseSchema` is an OpenAPI subset that refuses parts of JSON Schema.
 */
export class GeminiProvider implements LlmProvider {
  readonly provider = 'gemini' as const;
  readonly model: string;
  // private fields, so neither the SDK (which holds the key) nor the key show up in JSON or inspect output
  readonly #key: string;
  readonly #sdk: GoogleGenerativeAI;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #failures: ProviderFailures;

  constructor(options: GeminiOptions) {
    this.model = options.model;
    this.#key = options.key;
    this.#sdk = new GoogleGenerativeAI(options.key);
    this.#baseUrl = options.baseUrl;
    this.#timeoutMs = options.timeoutMs;
    this.#failures = new ProviderFailures('gemini', options.context);
    refuseRedirectsInGlobalFetch();
  }

  async complete({ system, user, jsonSchema }: CompletionRequest): Promise<CompletionResult> {
    const model = this.#sdk.getGenerativeModel(
      {
        model: this.model,
        systemInstruction: jsonSchema ? withSchemaInstruction(system, jsonSchema) : system,
        ...(jsonSchema ? { generationConfig: { responseMimeType: 'application/json' } } : {}),
      },
      { baseUrl: this.#baseUrl },
    );
    // the SDK never retries by itself, so there is no retry count to turn off here
    const response = await this.call(() => withDeadline(this.#timeoutMs, async (signal) => (await model.generateContent(user, { signal })).response));
    const reported = usageOf(response.usageMetadata?.promptTokenCount, response.usageMetadata?.candidatesTokenCount);
    return withUsageOnFailure(reported, () => {
      const text = this.answerText(response);
      const finishReason = response.candidates?.[0]?.finishReason;
      const total = response.usageMetadata?.totalTokenCount;
      const totalTokens = { ...(typeof total === 'number' ? { totalTokens: total } : {}), ...reported };
      return jsonSchema
        ? { text, json: parseJsonAnswer(text, this.#failures, finishReason), finishReason, ...totalTokens }
        : { text, finishReason, ...totalTokens };
    });
  }

  /**
   * The text of the first candidate, read without the SDK's `text()` (which throws one error for
   * every kind of empty answer). A blocked prompt or a safety finish is a record-specific failure; no
   * candidate at all is a ProviderUnavailableError. See
   * https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse.
   */
  private answerText(response: GenerateContentResponse): string {
    const blockReason = response.promptFeedback?.blockReason;
    if (blockReason) throw this.#failures.blocked(blockReason);
    const candidate = response.candidates?.[0];
    if (!candidate) throw this.#failures.noAnswer('no candidates');
    const finishReason = candidate.finishReason;
    if (finishReason === FinishReason.MAX_TOKENS) throw this.#failures.truncated(finishReason);
    if (finishReason && BLOCKING_FINISH_REASONS.has(finishReason)) throw this.#failures.blocked(finishReason);
    return (candidate.content?.parts ?? []).map((part) => part.text ?? '').join('');
  }

  /** The SDK has no "list models" call: a plain GET, with the key in the header, never in `?key=`. */
  async validateKey(): Promise<void> {
    const wanted = `models/${this.model}`;
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      const reply = await this.modelPage(pageToken);
      if (reply.models.some((m) => m.name === wanted)) return;
      pageToken = reply.nextPageToken;
      if (!pageToken) break;
    }
    throw new ModelNotAvailableError('gemini', this.model);
  }

  /** One page of `GET /v1beta/models` (https://ai.google.dev/api/models#method:-models.list; pageSize at most 1000). */
  private async modelPage(pageToken: string | undefined): Promise<{ models: { name?: string }[]; nextPageToken?: string }> {
    const query = new URLSearchParams({ pageSize: String(MODEL_PAGE_SIZE) });
    if (pageToken) query.set('pageToken', pageToken);
    const reply = await this.call(() =>
      withDeadline(this.#timeoutMs, async (signal) => {
        const response = await fetch(`${this.#baseUrl}/v1beta/models?${query.toString()}`, {
          headers: { 'x-goog-api-key': this.#key },
          redirect: 'manual',
          signal,
        });
        const body = (await response.json().catch(() => undefined)) as
          { error?: { details?: unknown }; models?: { name?: string }[]; nextPageToken?: string } | undefined;
        return { status: response.status, ok: response.ok, details: body?.error?.details, headers: response.headers, body };
      }),
    );
    if (!reply.ok) throw failureForGoogleReply(reply, this.#failures);
    return { models: Array.isArray(reply.body?.models) ? reply.body.models : [], nextPageToken: reply.body?.nextPageToken || undefined };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapGeminiError(error, this.#failures);
    }
  }
}

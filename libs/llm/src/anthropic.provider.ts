import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages/messages';
import { mapAnthropicError } from './anthropic-errors.js';
import { parseJsonAnswer } from './json-answer.js';
import { ModelNotAvailableError } from './llm.errors.js';
import type { CompletionRequest, CompletionResult, KeyContext, LlmProvider, TokenUsage } from './llm-provider.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import { ProviderFailures } from './provider-failures.js';
import { usageOf, withUsageOnFailure } from './token-usage.js';

// one pool of connections per process, shared by every client (connections carry no key)
const nodeHttpFetch = createNodeHttpFetch();

/**
 * The answer's length limit (tokens). The Messages API requires one; an extraction that needs more
 * ends with `stop_reason: "max_tokens"`, an AnswerTruncatedError.
 */
const MAX_OUTPUT_TOKENS = 8_192;

/** Stop reasons that mean the answer was cut off (https://docs.anthropic.com/en/api/handling-stop-reasons). */
const TRUNCATING_STOP_REASONS: ReadonlySet<string> = new Set(['max_tokens', 'model_context_window_exceeded']);

/** A content block as the SDK types it loosely: text, tool_use, or a kind this code does not read. */
interface PartialBlock {
  type?: string;
  text?: string;
  name?: string;
  input?: unknown;
}

/** A Messages API answer as a gateway may really send it: content missing, or an error object instead. */
interface PartialMessage {
  content?: PartialBlock[] | null;
  stop_reason?: string | null;
  usage?: { input_tokens?: number; output_tokens?: number } | null;
  error?: unknown;
}

export interface AnthropicOptions {
  key: string;
  /** The root before the API version, e.g. https://api.anthropic.com. */
  baseUrl: string;
  model: string;
  timeoutMs: number;
  context: KeyContext;
}

/**
 * Anthropic through @anthropic-ai/sdk (1.x, API version 2026-10-21, which sends the key as
 * `Authorization: Bearer`). Structured output is a tool whose `input_schema` is the extraction's
 * schema, forced with `tool_choice`: the model answers with a `tool_use` block whose `input` is the
 * JSON (https://docs.anthropic.com/en/docs/build-with-claude/tool-use).
 */
export class AnthropicProvider implements LlmProvider {
  readonly provider = 'anthropic' as const;
  readonly model: string;
  // a private field, so the client (which holds the key) never shows up in JSON or inspect output
  readonly #client: Anthropic;
  readonly #failures: ProviderFailures;

  constructor(options: AnthropicOptions) {
    this.model = options.model;
    this.#failures = new ProviderFailures('anthropic', options.context);
    this.#client = new Anthropic({
      // an explicit key: the SDK then reads no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, profile or
      // credential file (a credential in the environment or on disk is never a tenant's)
      apiKey: options.key,
      authToken: null,
      webhookKey: null,
      baseURL: options.baseUrl,
      // ANTHROPIC_CUSTOM_HEADERS is merged under these, and headers set here win: an `Authorization`
      // or `x-api-key` from the environment would otherwise replace or join the tenant's key
      defaultHeaders: { Authorization: `Bearer ${options.key}`, 'x-api-key': null },
      // our job layer owns retries and their back-off
      maxRetries: 0,
      timeout: options.timeoutMs,
      logLevel: 'off',
      openTelemetry: false,
      fetch: nodeHttpFetch,
    });
  }

  /**
   * One message. How it ended decides what the answer is worth: `refusal` is an AnswerRefusedError,
   * `max_tokens` an AnswerTruncatedError (both record-specific, never retried); a 200 without
   * `content` (an error object, as gateways send) is a ProviderUnavailableError. With a schema, the
   * JSON is the forced tool's `input`; an input sent as a string is repaired like a text answer, and
   * an answer with no `tool_use` block (prose) is read as text, as the other providers' are.
   * See https://docs.anthropic.com/en/api/messages.
   */
  async complete(request: CompletionRequest): Promise<CompletionResult> {
    // the SDK types a 200 as a full message; gateways send less, so read it as possibly partial
    const response: PartialMessage = await this.call(() => this.#client.messages.create(this.params(request)));
    const reported = usageOf(response.usage?.input_tokens, response.usage?.output_tokens);
    return withUsageOnFailure(reported, () => this.answerOf(request, response, reported));
  }

  private answerOf(request: CompletionRequest, response: PartialMessage, reported: { usage?: TokenUsage }): CompletionResult {
    const content = response.content;
    if (!Array.isArray(content)) throw this.#failures.noAnswer(response.error ? 'an error object instead of content' : 'no content');
    const finishReason = response.stop_reason ?? undefined;
    if (finishReason === 'refusal') throw this.#failures.refused(finishReason);
    if (finishReason && TRUNCATING_STOP_REASONS.has(finishReason)) throw this.#failures.truncated(finishReason);
    const text = content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join('');
    // input_tokens counts the prompt outside any cache; no request here marks a cache breakpoint
    const totalTokens = reported.usage ? { totalTokens: reported.usage.inputTokens + reported.usage.outputTokens, ...reported } : {};
    if (!request.jsonSchema) return { text, finishReason, ...totalTokens };
    const tool = content.find((block) => block.type === 'tool_use' && block.name === request.jsonSchema?.name);
    if (!tool) return { text, json: parseJsonAnswer(text, this.#failures, finishReason), finishReason, ...totalTokens };
    const json = this.toolInput(tool.input, finishReason);
    return { text: JSON.stringify(json), json, finishReason, ...totalTokens };
  }

  /** The forced tool's input: an object as the API promises, or (a known model quirk) that object sent as a JSON string. */
  private toolInput(input: unknown, finishReason: string | undefined): unknown {
    if (typeof input === 'string') return parseJsonAnswer(input, this.#failures, finishReason);
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) return input;
    throw this.#failures.unparsable(finishReason);
  }

  /** `GET /v1/models?limit=1`: costs no tokens, and answers 401 for a key Anthropic refuses. */
  async validateKey(): Promise<void> {
    // GET /v1/models/{model_id} takes an id or an alias (https://docs.anthropic.com/en/api/models): 404 when not offered
    const offered = await this.call(async () => {
      try {
        await this.#client.models.retrieve(this.model);
        return true;
      } catch (error) {
        if (error instanceof Anthropic.NotFoundError) return false;
        throw error;
      }
    });
    if (!offered) throw new ModelNotAvailableError('anthropic', this.model);
  }

  private params({ system, user, jsonSchema }: CompletionRequest): MessageCreateParamsNonStreaming {
    const base = { model: this.model, max_tokens: MAX_OUTPUT_TOKENS, system, messages: [{ role: 'user' as const, content: user }] };
    if (!jsonSchema) return base;
    return {
      ...base,
      tools: [
        {
          name: jsonSchema.name,
          description: `Records the ${jsonSchema.name} extracted from the text`,
          input_schema: jsonSchema.schema as Anthropic.Tool.InputSchema,
        },
      ],
      tool_choice: { type: 'tool', name: jsonSchema.name },
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapAnthropicError(error, this.#failures);
    }
  }
}

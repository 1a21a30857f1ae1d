import OpenAI, { APIError, AzureOpenAI } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { parseJsonAnswer, withSchemaInstruction } from './json-answer.js';
import { ModelNotAvailableError } from './llm.errors.js';
import type { CompletionRequest, CompletionResult, KeyContext, LlmProvider, TokenUsage } from './llm-provider.js';
import { isTokenCount, usageOf, withUsageOnFailure } from './token-usage.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import { mapOpenAiError } from './openai-errors.js';
import { ProviderFailures } from './provider-failures.js';

// one pool of connections per process, shared by every client (connections carry no key)
const nodeHttpFetch = createNodeHttpFetch();

/** A chat completion as a gateway may really send it: choices missing, or an error object instead. */
interface PartialCompletion {
  choices?: { finish_reason?: string | null; message?: { content?: unknown; refusal?: string | null } }[];
  usage?: { total_tokens?: number; prompt_tokens?: number; completion_tokens?: number } | null;
  error?: unknown;
}

/** The providers spoken to through the openai SDK. */
export type OpenAiFamily = 'openai' | 'deepseek' | 'azure-openai' | 'custom-openai';

export interface OpenAiCompatibleOptions {
  provider: OpenAiFamily;
  key: string;
  /** azure-openai: the resource (https://my-resource.openai.azure.com); otherwise the base the SDK appends `/chat/completions` to. */
  baseUrl: string;
  /** azure-openai: the deployment. */
  model: string;
  timeoutMs: number;
  context: KeyContext;
  /** azure-openai: the `api-version` query every call carries. */
  apiVersion?: string;
  /** What the SDK sends with: a tenant endpoint's fetch checks every connection against the egress policy. */
  fetch?: typeof fetch;
}

/**
 * A message's text: a string, or the text parts of a content array (as some OpenAI-compatible servers
 * send it: `[{ type: "text", text }]`); '' for none; undefined for anything else (not an answer).
 */
function contentText(content: unknown): string | undefined {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const parts = content.filter((part): part is { text: string } => typeof (part as { text?: unknown } | null)?.text === 'string');
  return parts.length === content.length ? parts.map((part) => part.text).join('') : undefined;
}

/**
 * OpenAI, and the providers that speak its API through the same SDK:
 * - DeepSeek has no `json_schema` response format, only `json_object`, so for it the schema goes into the prompt;
 * - Azure OpenAI through the SDK's AzureOpenAI client: the deployment in the path, `api-version` in the
 *   query, the key in the `api-key` header only (https://learn.microsoft.com/azure/ai-services/openai/reference);
 * - a tenant's own OpenAI-compatible endpoint (vLLM, Ollama, LiteLLM, a gateway): `json_object` and the
 *   schema in the prompt, the most widely served form of JSON output.
 */
export class OpenAiCompatibleProvider implements LlmProvider {
  readonly provider: OpenAiFamily;
  readonly model: string;
  // a private field, so the client (which holds the key) never shows up in JSON or inspect output
  readonly #client: OpenAI;
  readonly #failures: ProviderFailures;

  constructor(options: OpenAiCompatibleOptions) {
    this.provider = options.provider;
    this.model = options.model;
    this.#failures = new ProviderFailures(options.provider, options.context);
    const common = {
      apiKey: options.key,
      // the SDK fills every option left undefined from OPENAI_* environment variables: none may
      // come from there (a key or header in the environment is never a tenant's)
      organization: null,
      project: null,
      adminAPIKey: null,
      webhookSecret: null,
      // our job layer owns retries and their back-off
      maxRetries: 0,
      timeout: options.timeoutMs,
      logLevel: 'off' as const,
      fetch: options.fetch ?? nodeHttpFetch,
    };
    this.#client =
      options.provider === 'azure-openai'
        ? // baseURL, never `endpoint`: left undefined, the SDK would read OPENAI_BASE_URL from the environment
          new AzureOpenAI({ ...common, baseURL: `${options.baseUrl}/openai`, apiVersion: options.apiVersion, deployment: options.model })
        : new OpenAI({ ...common, baseURL: options.baseUrl });
  }

  /**
   * One chat completion. How the answer ended decides what it is worth: OpenAI's `refusal`, a
   * `length` or `content_filter` finish are record-specific failures (never retried); a 200 without
   * choices (an error object, as OpenRouter and other gateways send) is a ProviderUnavailableError.
   * See https://platform.openai.com/docs/api-reference/chat/object.
   */
  async complete(request: CompletionRequest): Promise<CompletionResult> {
    // the SDK types a 200 as a full completion; gateways send less, so read it as possibly partial
    const answered: unknown = await this.call(() => this.#client.chat.completions.create(this.params(request)));
    // a gateway's 200 may carry `null`, an array or a string instead of a completion object
    if (typeof answered !== 'object' || answered === null || Array.isArray(answered)) throw this.#failures.noAnswer('no completion object');
    const response = answered as PartialCompletion;
    const reported = usageOf(response.usage?.prompt_tokens, response.usage?.completion_tokens);
    return withUsageOnFailure(reported, () => this.answerOf(request, response, reported));
  }

  /** The answer of a completion, classified by how it ended (see `complete`). */
  private answerOf(request: CompletionRequest, response: PartialCompletion, reported: { usage?: TokenUsage }): CompletionResult {
    const choice = response.choices?.[0];
    if (!choice) throw this.#failures.noAnswer(response.error ? 'an error object instead of choices' : 'no choices');
    const finishReason = choice.finish_reason ?? undefined;
    if (choice.message?.refusal) throw this.#failures.refused(finishReason);
    if (finishReason === 'length') throw this.#failures.truncated(finishReason);
    if (finishReason === 'content_filter') throw this.#failures.blocked(finishReason);
    const text = contentText(choice.message?.content);
    if (text === undefined) throw this.#failures.unparsable(finishReason);
    const totalTokens = {
      ...(isTokenCount(response.usage?.total_tokens) ? { totalTokens: Math.floor(response.usage.total_tokens) } : {}),
      ...reported,
    };
    return request.jsonSchema
      ? { text, json: parseJsonAnswer(text, this.#failures, finishReason), finishReason, ...totalTokens }
      : { text, finishReason, ...totalTokens };
  }

  async validateKey(): Promise<void> {
    if (this.provider === 'azure-openai') return this.validateByCompletion();
    // OpenAI's, DeepSeek's and OpenAI-compatible servers' GET /models answer every model in one page (https://platform.openai.com/docs/api-reference/models/list)
    let listed: { id?: unknown }[];
    try {
      listed = (await this.#client.models.list()).data ?? [];
    } catch (error) {
      // a gateway of a tenant's own may serve completions without a model list: ask the model itself
      if (this.provider === 'custom-openai' && error instanceof APIError && (error.status === 404 || error.status === 405)) {
        return this.validateByCompletion();
      }
      throw mapOpenAiError(error, this.#failures);
    }
    if (!listed.some((m) => m.id === this.model)) throw new ModelNotAvailableError(this.provider, this.model);
  }

  /**
   * Azure OpenAI lists no deployments on its data plane (nor does every tenant gateway list its
   * models), so the cheap call is a one-token completion on the deployment or model: 401/403 refuse
   * the key, 404 (Azure's DeploymentNotFound) means no such deployment or model, and a 400 (a
   * parameter the model does not take) still proves both work.
   */
  private async validateByCompletion(): Promise<void> {
    try {
      await this.#client.chat.completions.create({ model: this.model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 });
    } catch (error) {
      if (error instanceof APIError && error.status === 404) throw new ModelNotAvailableError(this.provider, this.model);
      if (error instanceof APIError && error.status === 400) return;
      throw mapOpenAiError(error, this.#failures);
    }
  }

  private params({ system, user, jsonSchema }: CompletionRequest): ChatCompletionCreateParamsNonStreaming {
    const messages = (systemText: string): ChatCompletionMessageParam[] => [
      { role: 'system', content: systemText },
      { role: 'user', content: user },
    ];
    if (!jsonSchema) return { model: this.model, messages: messages(system) };
    if (this.provider === 'deepseek' || this.provider === 'custom-openai') {
      return { model: this.model, messages: messages(withSchemaInstruction(system, jsonSchema)), response_format: { type: 'json_object' } };
    }
    return {
      model: this.model,
      messages: messages(system),
      response_format: {
        type: 'json_schema',
        json_schema: { name: jsonSchema.name, schema: jsonSchema.schema as Record<string, unknown>, strict: true },
      },
    };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapOpenAiError(error, this.#failures);
    }
  }
}

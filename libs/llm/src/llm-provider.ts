import type { ProviderId } from '#libs/common';

export interface JsonSchemaSpec {
  name: string;
  schema: object;
}

export interface CompletionRequest {
  system: string;
  user: string;
  /** When set, the provider is asked for JSON matching the schema and the answer is parsed. */
  jsonSchema?: JsonSchemaSpec;
}

export interface CompletionResult {
  text: string;
  json?: unknown;
  /** The provider's word for how the answer ended (`stop`, `STOP`), when it said. */
  finishReason?: string;
  /** Tokens the provider counted for the call (prompt and answer), when it said: rate limits correct their estimate with it. */
  totalTokens?: number;
  /**
   * Tokens the provider billed for the prompt and for the answer, when it said (OpenAI and DeepSeek
   * `usage.prompt_tokens` / `completion_tokens`; Gemini `usageMetadata.promptTokenCount` /
   * `candidatesTokenCount`): the usage accounting records exactly these.
   */
  usage?: TokenUsage;
}

/** Tokens of one call as the provider reported them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/**
 * Who a call is made for, as it may appear in messages: a label and the key's last four
 * characters, never the key itself.
 */
export interface KeyContext {
  tenantLabel: string;
  keyLast4: string | null;
}

/** One provider, bound to one key. Every failure is an LlmError (see llm.errors.ts). */
export interface LlmProvider {
  readonly provider: ProviderId;
  readonly model: string;
  complete(request: CompletionRequest): Promise<CompletionResult>;
  /**
   * A cheap live call to the provider's model list (Anthropic: the one model, which resolves aliases)
   * that fails with AuthenticationError when the provider refuses the key, and with
   * ModelNotAvailableError when the key works but the provider does not offer `model`.
   */
  validateKey(): Promise<void>;
}

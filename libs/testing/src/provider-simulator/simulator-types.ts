import type { ProviderId } from '#libs/common';

export interface SimulatorUrls {
  /** Use as OPENAI_BASE_URL: it includes `/v1`, as the openai SDK's baseURL does. */
  openaiBaseUrl: string;
  /** Use as DEEPSEEK_BASE_URL. */
  deepseekBaseUrl: string;
  /** Use as GEMINI_BASE_URL: the root the Gemini SDK appends `/v1beta/...` to. */
  geminiBaseUrl: string;
  /** Use as ANTHROPIC_BASE_URL: the root the Anthropic SDK appends `/v1/messages` to. */
  anthropicBaseUrl: string;
  /** A tenant's AZURE_OPENAI_ENDPOINT (the resource): the SDK appends `/openai/deployments/...`. */
  azureOpenAiEndpoint: string;
  /** A tenant's CUSTOM_OPENAI_BASE_URL: it includes `/v1`, as an OpenAI-compatible server's base does. */
  customOpenAiBaseUrl: string;
}

export interface RecordedRequest {
  provider: ProviderId;
  method: string;
  /** Without the query string, which may carry a Gemini key. */
  path: string;
  /** SHA-256 of the key the request carried (see fingerprintForSimulator); null when it carried none. */
  keyFingerprint: string | null;
  /** Where the key travelled: a Gemini client must never put it in the URL (Anthropic's `x-api-key` and `Authorization` are both headers). */
  keyLocation: 'header' | 'query' | null;
  model?: string;
  /** Azure OpenAI: the `api-version` query the request carried (the only part of a query recorded: a Gemini key may travel in one). */
  apiVersion?: string;
  /** The names of the headers it carried (lower case): which header a key travelled in, and which it did not. */
  headerNames: string[];
  /** The Host header: a request that followed one of `redirectNext`'s redirects names `localhost`. */
  host: string;
  at: Date;
}

/** The tokens one answer reported, as the simulator sent them. */
export interface ReportedUsage {
  provider: ProviderId;
  keyFingerprint: string | null;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/**
 * What the next matching requests answer instead of their normal reply. 401 is answered the way
 * the real provider refuses a bad key (Gemini: 400 INVALID_ARGUMENT with reason API_KEY_INVALID);
 * 503 is the provider's "overloaded" answer (Anthropic: 529 overloaded_error).
 */
export interface ScriptedFailure {
  status: 400 | 401 | 403 | 429 | 500 | 503;
  /** How many requests fail this way; 1 by default. */
  times?: number;
  /** For 429; 7 by default, null to send no retry hint at all. */
  retryAfterSeconds?: number | null;
}

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Keys each provider accepts; `*` accepts any non-empty key. None configured: every key is refused. */
  validKeys?: Partial<Record<ProviderId, string[]>>;
  latencyMs?: number;
  latencyByProvider?: Partial<Record<ProviderId, number>>;
  /** Completion requests one key may make per sliding window (`rateWindowMs`, a minute by default); more answer 429. */
  rpmPerKey?: number;
  /** The sliding window of `rpmPerKey` (ms); 60,000 by default, shorter in tests. */
  rateWindowMs?: number;
  /** The model ids each provider's model list offers (LISTED_MODELS, each provider's default model, when not given). */
  models?: Partial<Record<ProviderId, string[]>>;
}

/** What the simulator saw of one key (by fingerprintForSimulator). */
export interface KeyStats {
  /** Completion requests that reached it, those answered 429 included. */
  completions: number;
  /** Completion requests answered 429 because the key was over `rpmPerKey`. */
  rateLimited: number;
  /** The most requests of the key it was answering at one time. */
  maxInFlight: number;
  /** Requests of the key it is answering now. */
  inFlight: number;
  /** When its first and its latest completion that counted against the rate limit arrived (ms since the epoch; 0: none yet). */
  firstCountedAt: number;
  lastCountedAt: number;
}

/** A parsed request as the wire formats see it. */
export interface WireRequest {
  provider: ProviderId;
  method: string;
  /** The path after the provider prefix, e.g. `/v1/chat/completions`. */
  route: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** Whether fault markers in the text are acted on (see fault-markers.ts); off, every answer is clean. */
  faults: boolean;
  /** The model ids the provider's model list offers now (SimulatorOptions.models). */
  models: readonly string[];
}

export interface WireReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export type FailureKind =
  'missing-key' | 'invalid-key' | 'permission-denied' | 'rate-limited' | 'server-error' | 'overloaded' | 'bad-request' | 'not-found';

export interface PresentedKey {
  value: string;
  location: 'header' | 'query';
}

/** One provider's wire format: where it carries the key, how it answers and how it fails. */
export interface WireFormat {
  keyOf(request: WireRequest): PresentedKey | undefined;
  modelOf(request: WireRequest): string | undefined;
  /** The API version the request named, for a wire that carries one in the query (Azure OpenAI). */
  apiVersionOf?(request: WireRequest): string | undefined;
  answer(request: WireRequest): WireReply;
  failure(kind: FailureKind, request: WireRequest, retryAfterSeconds?: number | null): WireReply;
}

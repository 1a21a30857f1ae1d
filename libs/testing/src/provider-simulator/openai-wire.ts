import { extractEntitiesDeterministically, plainAnswerFor } from './entity-extraction.js';
import { damagedAnswer, faultIn } from './fault-markers.js';
import type { FailureKind, WireFormat, WireReply, WireRequest } from './simulator-types.js';

interface ChatBody {
  model?: string;
  messages?: { role: string; content: string | { type: string; text?: string }[] }[];
  response_format?: { type?: string };
}

const DEFAULT_MODELS: Record<string, string> = { openai: 'gpt-4o-mini', deepseek: 'deepseek-chat' };

function textOf(content: string | { type: string; text?: string }[] | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('');
}

/** OpenAI shows a bad key back masked (prefix and last four); the SDK copies that into its error message. */
function maskLikeOpenAi(key: string): string {
  return key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(Math.max(4, key.length - 12))}${key.slice(-4)}` : '****';
}

function bearerKey(request: WireRequest): string | undefined {
  const header = request.headers.authorization;
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Bearer\s+(.+)$/i.exec(value) : null;
  return match?.[1]?.trim() || undefined;
}

function error(status: number, message: string, type: string, code: string | null, headers?: Record<string, string>): WireReply {
  return { status, headers, body: { error: { message, type, param: null, code } } };
}

/** The text of the last user message of a chat completion request. */
export function lastUserText(request: WireRequest): string {
  const messages = ((request.body ?? {}) as ChatBody).messages ?? [];
  return textOf([...messages].reverse().find((m) => m.role === 'user')?.content);
}

/** A chat completion as OpenAI answers it (Azure OpenAI and OpenAI-compatible servers answer the same shape). */
export function chatCompletion(request: WireRequest): WireReply {
  const body = (request.body ?? {}) as ChatBody;
  const messages = body.messages ?? [];
  const system = messages
    .filter((m) => m.role === 'system')
    .map((m) => textOf(m.content))
    .join('\n');
  const user = textOf([...messages].reverse().find((m) => m.role === 'user')?.content);
  const wantsJson = ['json_schema', 'json_object'].includes(body.response_format?.type ?? '') || /entit/i.test(system);
  const fault = wantsJson && request.faults ? faultIn(user) : undefined;
  // an OpenAI-compatible gateway's 200 without choices
  if (fault === 'errorBody') return { status: 200, body: { error: { message: 'Upstream provider returned an error', code: 502 } } };
  let content: string | null = wantsJson ? JSON.stringify(extractEntitiesDeterministically(user)) : plainAnswerFor(request.provider, user);
  let refusal: string | null = null;
  let finishReason = 'stop';
  if (fault === 'refusal') [content, refusal] = [null, "I'm sorry, but I can't help with that request."];
  else if (fault === 'safety' || fault === 'blocked') [content, finishReason] = ['', 'content_filter'];
  else if (fault) [content, finishReason] = [damagedAnswer(fault, user), fault === 'truncated' ? 'length' : 'stop'];
  const model = body.model ?? DEFAULT_MODELS[request.provider];
  const promptTokens = Math.ceil((system.length + user.length) / 4);
  const completionTokens = Math.ceil((content ?? refusal ?? '').length / 4);
  return {
    status: 200,
    body: {
      id: `chatcmpl-sim-${promptTokens}-${completionTokens}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal }, logprobs: null, finish_reason: finishReason }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    },
  };
}

function modelList(request: WireRequest): WireReply {
  const created = 1_700_000_000;
  return {
    status: 200,
    body: { object: 'list', data: request.models.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) },
  };
}

/** OpenAI's wire format, which DeepSeek copies; the real services' error bodies included. */
export const openAiWire: WireFormat = {
  keyOf(request) {
    const value = bearerKey(request);
    return value ? { value, location: 'header' } : undefined;
  },

  modelOf(request) {
    const model = (request.body as ChatBody | undefined)?.model;
    return typeof model === 'string' ? model : undefined;
  },

  answer(request) {
    if (request.method === 'POST' && request.route === '/v1/chat/completions') return chatCompletion(request);
    if (request.method === 'GET' && request.route === '/v1/models') return modelList(request);
    return this.failure('not-found', request);
  },

  failure(kind: FailureKind, request, retryAfterSeconds = 7) {
    switch (kind) {
      case 'missing-key':
        return error(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          'invalid_request_error',
          null,
        );
      case 'invalid-key':
        return error(
          401,
          `Incorrect API key provided: ${maskLikeOpenAi(bearerKey(request) ?? '')}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          'invalid_request_error',
          'invalid_api_key',
        );
      case 'permission-denied':
        return error(403, 'You are not allowed to sample from this model', 'invalid_request_error', 'model_not_found');
      case 'rate-limited':
        return error(
          429,
          `Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${retryAfterSeconds ?? 20}s.`,
          'requests',
          'rate_limit_exceeded',
          retryAfterSeconds === null ? undefined : { 'retry-after': String(retryAfterSeconds) },
        );
      case 'server-error':
        return error(500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
      case 'overloaded':
        return error(503, 'The engine is currently overloaded, please try again later.', 'server_error', null);
      case 'bad-request':
        return error(400, "Invalid value for 'response_format'.", 'invalid_request_error', 'invalid_value');
      case 'not-found':
        return error(404, `Invalid URL (${request.method} ${request.route})`, 'invalid_request_error', null);
    }
  },
};

import { extractEntitiesDeterministically, plainAnswerFor } from './entity-extraction.js';
import { damagedAnswer, faultIn } from './fault-markers.js';
import type { FailureKind, PresentedKey, WireFormat, WireReply, WireRequest } from './simulator-types.js';

interface MessagesBody {
  model?: string;
  max_tokens?: unknown;
  system?: string | { type: string; text?: string }[];
  messages?: { role: string; content: string | { type: string; text?: string }[] }[];
  tools?: { name?: string; input_schema?: { type?: string } }[];
  tool_choice?: { type?: string; name?: string };
}

const DEFAULT_MODEL = 'claude-haiku-4-5';

function textOf(content: string | { type: string; text?: string }[] | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('');
}

function headerOf(request: WireRequest, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

/** The key as Anthropic reads it: `x-api-key` (its documented header), else `Authorization: Bearer` (SDK 1.x). */
function keyOf(request: WireRequest): PresentedKey | undefined {
  const apiKey = headerOf(request, 'x-api-key');
  if (apiKey) return { value: apiKey, location: 'header' };
  const bearer = /^Bearer\s+(.+)$/i.exec(headerOf(request, 'authorization') ?? '')?.[1]?.trim();
  return bearer ? { value: bearer, location: 'header' } : undefined;
}

/** Anthropic's error body (https://docs.anthropic.com/en/api/errors). */
function error(status: number, type: string, message: string, headers?: Record<string, string>): WireReply {
  return { status, headers, body: { type: 'error', error: { type, message }, request_id: `req_sim_${status}` } };
}

function message(model: string, content: unknown[], stopReason: string, inputTokens: number, outputTokens: number): WireReply {
  return {
    status: 200,
    body: {
      id: `msg_sim_${inputTokens}_${outputTokens}`,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  };
}

/**
 * `POST /v1/messages`. With a tool forced (`tool_choice`), the extraction is that tool's `tool_use`
 * input; the fault markers give what Claude really sends now and then: `stop_reason` "refusal"
 * (refusal, safety, blocked), "max_tokens" (truncated), prose with no `tool_use` block (prose,
 * not-json), the tool input as a JSON string with damage (trailing-commas).
 */
function createMessage(request: WireRequest): WireReply {
  const body = (request.body ?? {}) as MessagesBody;
  const problem = requestProblem(body);
  if (problem) return error(400, 'invalid_request_error', problem);
  const model = body.model ?? DEFAULT_MODEL;
  const system = typeof body.system === 'string' ? body.system : textOf(body.system);
  const user = textOf([...(body.messages ?? [])].reverse().find((m) => m.role === 'user')?.content);
  const toolName = body.tool_choice?.type === 'tool' ? body.tool_choice.name : body.tools?.[0]?.name;
  const wantsJson = toolName !== undefined || /entit/i.test(system);
  const fault = wantsJson && request.faults ? faultIn(user) : undefined;
  const inputTokens = Math.ceil((system.length + user.length) / 4);
  const toolUse = (input: unknown) => ({
    type: 'tool_use',
    id: `toolu_sim_${inputTokens}`,
    name: toolName ?? 'extract',
    input,
    caller: { type: 'direct' },
  });
  const reply = (content: unknown[], stopReason: string) =>
    message(model, content, stopReason, inputTokens, Math.ceil(JSON.stringify(content).length / 4));
  switch (fault) {
    case 'errorBody':
      return { status: 200, body: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } } };
    case 'refusal':
    case 'safety':
    case 'blocked':
      return reply([], 'refusal');
    case 'truncated':
      return reply([toolUse({})], 'max_tokens');
    case 'prose':
    case 'notJson':
      return reply([{ type: 'text', text: damagedAnswer(fault, user) }], 'end_turn');
    case 'trailingCommas':
      return reply([toolUse(damagedAnswer(fault, user))], 'tool_use');
    case undefined:
      break;
    default:
      return reply([toolUse(JSON.parse(damagedAnswer(fault, user)))], 'tool_use');
  }
  if (toolName !== undefined) return reply([toolUse(extractEntitiesDeterministically(user))], 'tool_use');
  const text = wantsJson ? JSON.stringify(extractEntitiesDeterministically(user)) : plainAnswerFor(request.provider, user);
  return reply([{ type: 'text', text }], 'end_turn');
}

/** What the real API refuses with 400 before answering: the checks a client of ours could get wrong. */
function requestProblem(body: MessagesBody): string | undefined {
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: Field required';
  for (const [index, tool] of (body.tools ?? []).entries()) {
    if (tool.input_schema?.type !== 'object') return `tools.${index}.custom.input_schema.type: Input should be 'object'`;
  }
  const forced = body.tool_choice?.type === 'tool' ? body.tool_choice.name : undefined;
  if (forced !== undefined && !(body.tools ?? []).some((tool) => tool.name === forced)) return `Tool '${forced}' not found in provided tools`;
  return undefined;
}

const modelInfo = (id: string) => ({ type: 'model', id, display_name: id, created_at: '2025-10-15T00:00:00Z' });

function modelList(request: WireRequest): WireReply {
  const data = request.models.map(modelInfo);
  return { status: 200, body: { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null } };
}

const MODEL_ROUTE = /^\/v1\/models\/([^/]+)$/;

/** Anthropic's Messages API wire format, its models list and its error bodies. */
export const anthropicWire: WireFormat = {
  keyOf,

  modelOf(request) {
    const model = (request.body as MessagesBody | undefined)?.model;
    return typeof model === 'string' ? model : undefined;
  },

  answer(request) {
    if (!headerOf(request, 'anthropic-version')) return error(400, 'invalid_request_error', 'anthropic-version: header is required');
    if (request.method === 'POST' && request.route === '/v1/messages') return createMessage(request);
    if (request.method === 'GET' && request.route === '/v1/models') return modelList(request);
    const retrieved = MODEL_ROUTE.exec(request.route)?.[1];
    if (request.method === 'GET' && retrieved && request.models.includes(decodeURIComponent(retrieved))) {
      return { status: 200, body: modelInfo(decodeURIComponent(retrieved)) };
    }
    return this.failure('not-found', request);
  },

  failure(kind: FailureKind, request, retryAfterSeconds = 7) {
    switch (kind) {
      case 'missing-key':
        return error(401, 'authentication_error', 'x-api-key header is required');
      case 'invalid-key':
        return error(401, 'authentication_error', 'invalid x-api-key');
      case 'permission-denied':
        return error(403, 'permission_error', 'Your API key does not have permission to use the specified resource.');
      case 'rate-limited':
        return error(
          429,
          'rate_limit_error',
          'This request would exceed the rate limit for your organization of 50 requests per minute.',
          retryAfterSeconds === null ? undefined : { 'retry-after': String(retryAfterSeconds) },
        );
      case 'server-error':
        return error(500, 'api_error', 'Internal server error');
      case 'overloaded':
        return error(529, 'overloaded_error', 'Overloaded');
      case 'bad-request':
        return error(400, 'invalid_request_error', 'messages: field required');
      case 'not-found':
        return error(404, 'not_found_error', `Not found: ${request.method} ${request.route}`);
    }
  },
};

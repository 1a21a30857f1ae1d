import { extractEntitiesDeterministically, plainAnswerFor } from './entity-extraction.js';
import { damagedAnswer, faultIn } from './fault-markers.js';
import type { FailureKind, WireFormat, WireReply, WireRequest } from './simulator-types.js';

interface Content {
  role?: string;
  parts?: { text?: string }[];
}

interface GenerateBody {
  contents?: Content[];
  systemInstruction?: Content;
  generationConfig?: { responseMimeType?: string };
}

const SAFETY_RATINGS = [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }];
const GENERATE = /^\/v1beta\/models\/([^/:]+):generateContent$/;
const INVALID_KEY_MESSAGE = 'API key not valid. Please pass a valid API key.';

function textOf(content: Content | undefined): string {
  return (content?.parts ?? []).map((part) => part.text ?? '').join('');
}

function error(code: number, status: string, message: string, details?: unknown[]): WireReply {
  return { status: code, body: { error: { code, message, status, ...(details ? { details } : {}) } } };
}

function generateContent(request: WireRequest, model: string): WireReply {
  const body = (request.body ?? {}) as GenerateBody;
  const user = textOf([...(body.contents ?? [])].reverse().find((c) => (c.role ?? 'user') === 'user'));
  const system = textOf(body.systemInstruction);
  const wantsJson = body.generationConfig?.responseMimeType === 'application/json' || /entit/i.test(system);
  const fault = wantsJson && request.faults ? faultIn(user) : undefined;
  const promptTokenCount = Math.ceil((system.length + user.length) / 4);
  const usageMetadata = { promptTokenCount, candidatesTokenCount: 0, totalTokenCount: promptTokenCount };
  switch (fault) {
    case 'errorBody':
      return { status: 200, body: { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } } };
    case 'blocked':
      return { status: 200, body: { promptFeedback: { blockReason: 'SAFETY', safetyRatings: SAFETY_RATINGS }, usageMetadata, modelVersion: model } };
    case 'safety':
      return {
        status: 200,
        body: { candidates: [{ finishReason: 'SAFETY', index: 0, safetyRatings: SAFETY_RATINGS }], usageMetadata, modelVersion: model },
      };
  }
  const text = fault
    ? damagedAnswer(fault, user)
    : wantsJson
      ? JSON.stringify(extractEntitiesDeterministically(user))
      : plainAnswerFor('gemini', user);
  const candidatesTokenCount = Math.ceil(text.length / 4);
  return {
    status: 200,
    body: {
      candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: fault === 'truncated' ? 'MAX_TOKENS' : 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount },
      modelVersion: model,
    },
  };
}

function headerValue(request: WireRequest, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value) || undefined;
}

/** The Gemini API's wire format, with Google's error bodies (google.rpc.Status). */
export const geminiWire: WireFormat = {
  // the real API takes either; the simulator does too, so a client sending `?key=` is recorded
  keyOf(request) {
    const header = headerValue(request, 'x-goog-api-key');
    if (header) return { value: header, location: 'header' };
    const query = request.query.get('key');
    return query ? { value: query, location: 'query' } : undefined;
  },

  modelOf: (request) => GENERATE.exec(request.route)?.[1],

  answer(request) {
    const model = GENERATE.exec(request.route)?.[1];
    if (request.method === 'POST' && model) return generateContent(request, model);
    if (request.method === 'GET' && request.route === '/v1beta/models') {
      return {
        status: 200,
        body: {
          models: request.models.map((id) => ({
            name: `models/${id}`,
            displayName: id,
            supportedGenerationMethods: ['generateContent', 'countTokens'],
          })),
        },
      };
    }
    return this.failure('not-found', request);
  },

  failure(kind: FailureKind, request, retryAfterSeconds = 7) {
    switch (kind) {
      case 'missing-key':
        return error(
          403,
          'PERMISSION_DENIED',
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        );
      case 'invalid-key':
        // the real API refuses a bad key with 400, not 401
        return error(400, 'INVALID_ARGUMENT', INVALID_KEY_MESSAGE, [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
          { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: INVALID_KEY_MESSAGE },
        ]);
      case 'permission-denied':
        return error(403, 'PERMISSION_DENIED', 'Permission denied: Consumer has been suspended.');
      case 'rate-limited':
        return error(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.', [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
                quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
              },
            ],
          },
          ...(retryAfterSeconds === null ? [] : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` }]),
        ]);
      case 'server-error':
        return error(
          500,
          'INTERNAL',
          'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
        );
      case 'overloaded':
        return error(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      case 'bad-request':
        return error(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
      case 'not-found':
        return error(404, 'NOT_FOUND', `Requested entity was not found. (${request.method} ${request.route})`);
    }
  },
};

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { extractEntitiesDeterministically, plainAnswerFor } from './entity-extraction.js';
import { fingerprintForSimulator } from './fingerprint.js';
import { ProviderSimulator } from './provider-simulator.js';
import type { SimulatorUrls } from './simulator-types.js';
import { parseValidKeysSpec } from './valid-keys-spec.js';

const OPENAI_KEY = 'sk-proj-simulator-spec-0000000000000001';
const GEMINI_KEY = 'AIzaSy-simulator-spec-000000000000000002';
const ANTHROPIC_KEY = 'sk-ant-api03-simulator-spec-00000000000000000000003';

/** The parts of the wire answers these tests read. */
interface OpenAiCompletion {
  choices: { message: { content: string } }[];
}
interface OpenAiError {
  error: { message: string; type: string; code: string | null };
}
interface GeminiAnswer {
  candidates: { content: { parts: { text: string }[] } }[];
}
interface GeminiError {
  error: { code: number; status: string; message: string; details: unknown[] };
}
interface AnthropicMessage {
  content: { type: string; text?: string; name?: string; input?: unknown }[];
  stop_reason: string;
  usage: { input_tokens: number; output_tokens: number };
}
interface AnthropicError {
  type: 'error';
  error: { type: string; message: string };
}

/** Calls the simulator; `T` is the body the caller expects, not checked at run time. */
async function call<T = unknown>(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const response = await fetch(url, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

describe('ProviderSimulator', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: [OPENAI_KEY], gemini: [GEMINI_KEY], deepseek: ['*'], anthropic: [ANTHROPIC_KEY] } });
  let urls: SimulatorUrls;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const chat = (body: object = {}) => ({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello Alice' },
    ],
    ...body,
  });
  const gemini = (body: object = {}) => ({ contents: [{ role: 'user', parts: [{ text: 'Hello Alice' }] }], ...body });

  beforeAll(async () => {
    urls = await simulator.start();
  });
  // requests, scripted failures, latency and gates back to the constructor's after every test
  afterEach(() => simulator.reset());
  afterAll(() => simulator.stop());

  it('serves four base URLs on 127.0.0.1', () => {
    expect(urls.anthropicBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/anthropic$/);
    expect(urls.openaiBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/openai\/v1$/);
    expect(urls.deepseekBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/deepseek\/v1$/);
    expect(urls.geminiBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/gemini$/);
  });

  describe('OpenAI wire format', () => {
    it('answers a chat completion and records the key as a fingerprint', async () => {
      const { status, body } = await call(`${urls.openaiBaseUrl}/chat/completions`, { headers: bearer(OPENAI_KEY), body: chat() });

      expect(status).toBe(200);
      expect(body).toMatchObject({
        object: 'chat.completion',
        model: 'gpt-4o-mini',
        choices: [{ message: { role: 'assistant', content: plainAnswerFor('openai', 'Hello Alice') } }],
      });
      expect(simulator.requests).toEqual([
        {
          provider: 'openai',
          method: 'POST',
          path: '/openai/v1/chat/completions',
          keyFingerprint: fingerprintForSimulator(OPENAI_KEY),
          keyLocation: 'header',
          model: 'gpt-4o-mini',
          headerNames: expect.arrayContaining(['authorization', 'content-type']),
          host: new URL(urls.openaiBaseUrl).host,
          at: expect.any(Date),
        },
      ]);
      expect(JSON.stringify(simulator.requests)).not.toContain(OPENAI_KEY);
    });

    it.each([
      ['a json_schema response format', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {}, strict: true } } }],
      ['a json_object response format', { response_format: { type: 'json_object' } }],
      [
        'a system prompt asking for entities',
        {
          messages: [
            { role: 'system', content: 'Extract entities.' },
            { role: 'user', content: 'Hello Alice' },
          ],
        },
      ],
    ])('answers extraction JSON for %s', async (_, extra) => {
      const { body } = await call<OpenAiCompletion>(`${urls.openaiBaseUrl}/chat/completions`, { headers: bearer(OPENAI_KEY), body: chat(extra) });
      expect(JSON.parse(body.choices[0].message.content)).toEqual(extractEntitiesDeterministically('Hello Alice'));
    });

    it('lists models', async () => {
      const { status, body } = await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) });
      expect(status).toBe(200);
      expect(body).toMatchObject({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] });
    });

    it("refuses a bad key with OpenAI's body, echoing the key masked", async () => {
      const { status, body } = await call(`${urls.openaiBaseUrl}/models`, { headers: bearer('sk-proj-wrong-key-000000000009999') });
      expect(status).toBe(401);
      expect(body).toEqual({
        error: {
          message: expect.stringMatching(/^Incorrect API key provided: sk-proj-\*+9999\. /),
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
    });

    it('refuses a request without a key', async () => {
      const { status, body } = await call<OpenAiError>(`${urls.openaiBaseUrl}/models`);
      expect(status).toBe(401);
      expect(body.error.message).toMatch(/You didn't provide an API key/);
      expect(simulator.requests[0].keyFingerprint).toBeNull();
    });

    it('plays scripted failures the given number of times, then answers normally', async () => {
      simulator.failNext('openai', { status: 429, times: 2, retryAfterSeconds: 3 });
      const first = await call<OpenAiError>(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) });
      const second = await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) });
      const third = await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) });

      expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
      expect(first.headers.get('retry-after')).toBe('3');
      expect(first.body.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
    });

    it('answers a scripted 500 with a server_error body', async () => {
      simulator.failNext('openai', { status: 500 });
      const { status, body } = await call<OpenAiError>(`${urls.openaiBaseUrl}/chat/completions`, { headers: bearer(OPENAI_KEY), body: chat() });
      expect(status).toBe(500);
      expect(body.error).toMatchObject({ type: 'server_error', code: null });
    });

    it('serves DeepSeek under its own prefix and records it apart', async () => {
      const { status } = await call(`${urls.deepseekBaseUrl}/chat/completions`, {
        headers: bearer('sk-any-deepseek-key-123456'),
        body: chat({ model: 'deepseek-chat' }),
      });

      expect(status).toBe(200);
      expect(simulator.requestsFor('deepseek')).toEqual([expect.objectContaining({ path: '/deepseek/v1/chat/completions', model: 'deepseek-chat' })]);
      expect(simulator.requestsFor('openai')).toEqual([]);
    });

    it('answers an unknown route with 404 and malformed JSON with 400', async () => {
      expect((await call(`${urls.openaiBaseUrl}/embeddings`, { headers: bearer(OPENAI_KEY), body: {} })).status).toBe(404);
      const malformed = await fetch(`${urls.openaiBaseUrl}/chat/completions`, { method: 'POST', headers: bearer(OPENAI_KEY), body: '{' });
      expect(malformed.status).toBe(400);
    });
  });

  describe('Gemini wire format', () => {
    const generate = () => `${urls.geminiBaseUrl}/v1beta/models/gemini-2.0-flash:generateContent`;

    it('answers generateContent with the key in x-goog-api-key', async () => {
      const { status, body } = await call<GeminiAnswer>(generate(), { headers: { 'x-goog-api-key': GEMINI_KEY }, body: gemini() });

      expect(status).toBe(200);
      expect(body.candidates[0]).toMatchObject({
        content: { role: 'model', parts: [{ text: plainAnswerFor('gemini', 'Hello Alice') }] },
        finishReason: 'STOP',
      });
      expect(simulator.requests[0]).toMatchObject({
        provider: 'gemini',
        path: '/gemini/v1beta/models/gemini-2.0-flash:generateContent',
        model: 'gemini-2.0-flash',
        keyLocation: 'header',
        keyFingerprint: fingerprintForSimulator(GEMINI_KEY),
      });
    });

    it('accepts the key as ?key= too, and keeps it out of the recorded path', async () => {
      const { status } = await call(`${urls.geminiBaseUrl}/v1beta/models?key=${GEMINI_KEY}`);

      expect(status).toBe(200);
      expect(simulator.requests[0]).toMatchObject({ path: '/gemini/v1beta/models', keyLocation: 'query' });
      expect(JSON.stringify(simulator.requests)).not.toContain(GEMINI_KEY);
    });

    it('answers extraction JSON when asked for application/json', async () => {
      const { body } = await call<GeminiAnswer>(generate(), {
        headers: { 'x-goog-api-key': GEMINI_KEY },
        body: gemini({ generationConfig: { responseMimeType: 'application/json' } }),
      });
      expect(JSON.parse(body.candidates[0].content.parts[0].text)).toEqual(extractEntitiesDeterministically('Hello Alice'));
    });

    it('refuses a bad key as the real API does: 400 INVALID_ARGUMENT, reason API_KEY_INVALID', async () => {
      const { status, body } = await call<GeminiError>(generate(), { headers: { 'x-goog-api-key': 'AIza-wrong' }, body: gemini() });

      expect(status).toBe(400);
      expect(body.error).toMatchObject({
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: 'API key not valid. Please pass a valid API key.',
        details: expect.arrayContaining([expect.objectContaining({ reason: 'API_KEY_INVALID' })]),
      });
    });

    it('answers a scripted 429 with RetryInfo, and a scripted 403 with PERMISSION_DENIED', async () => {
      simulator.failNext('gemini', { status: 429, retryAfterSeconds: 7 });
      simulator.failNext('gemini', { status: 403 });
      const limited = await call<GeminiError>(generate(), { headers: { 'x-goog-api-key': GEMINI_KEY }, body: gemini() });
      const denied = await call<GeminiError>(generate(), { headers: { 'x-goog-api-key': GEMINI_KEY }, body: gemini() });

      expect(limited.status).toBe(429);
      expect(limited.body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
      expect(limited.body.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' });
      expect(denied.status).toBe(403);
      expect(denied.body.error.status).toBe('PERMISSION_DENIED');
    });

    it('answers a scripted 500 with INTERNAL', async () => {
      simulator.failNext('gemini', { status: 500 });
      const { status, body } = await call<GeminiError>(generate(), { headers: { 'x-goog-api-key': GEMINI_KEY }, body: gemini() });
      expect(status).toBe(500);
      expect(body.error).toMatchObject({ code: 500, status: 'INTERNAL' });
    });
  });

  describe('Anthropic wire format', () => {
    const messages = () => `${urls.anthropicBaseUrl}/v1/messages`;
    const headers = (key = ANTHROPIC_KEY) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' });
    const extraction = {
      model: 'claude-haiku-4-5',
      max_tokens: 1024,
      system: 'Extract the entities.',
      messages: [{ role: 'user', content: 'Alice Johnson from Acme Corp met Bob Smith.' }],
      tools: [{ name: 'knowledge_graph', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'knowledge_graph' },
    };

    it('answers a forced tool with a tool_use block and usage, the key taken from x-api-key', async () => {
      const { status, body } = await call<AnthropicMessage>(messages(), { headers: headers(), body: extraction });

      expect(status).toBe(200);
      expect(body.stop_reason).toBe('tool_use');
      expect(body.content).toEqual([
        expect.objectContaining({
          type: 'tool_use',
          name: 'knowledge_graph',
          input: extractEntitiesDeterministically(extraction.messages[0].content),
        }),
      ]);
      expect(body.usage).toEqual(expect.objectContaining({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) }));
      expect(simulator.requestsFor('anthropic')).toEqual([
        expect.objectContaining({ path: '/anthropic/v1/messages', keyFingerprint: fingerprintForSimulator(ANTHROPIC_KEY), keyLocation: 'header' }),
      ]);
      expect(simulator.usageReported()).toEqual([
        expect.objectContaining({ provider: 'anthropic', inputTokens: body.usage.input_tokens, outputTokens: body.usage.output_tokens }),
      ]);
    });

    it('takes the key from Authorization: Bearer too (SDK 1.x), and lists models', async () => {
      const { status, body } = await call<{ data: { id: string }[] }>(`${urls.anthropicBaseUrl}/v1/models`, {
        headers: { ...bearer(ANTHROPIC_KEY), 'anthropic-version': '2026-10-21' },
      });
      expect(status).toBe(200);
      expect(body.data.map((m) => m.id)).toEqual(['claude-haiku-4-5']);
      expect(simulator.keysSeen('anthropic')).toEqual([fingerprintForSimulator(ANTHROPIC_KEY)]);
    });

    it('answers plain text without a tool', async () => {
      const { body } = await call<AnthropicMessage>(messages(), {
        headers: headers(),
        body: { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hello Alice' }] },
      });
      expect(body).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: plainAnswerFor('anthropic', 'Hello Alice') }] });
    });

    it("refuses a bad key, a missing key and a missing anthropic-version with Anthropic's error bodies", async () => {
      const bad = await call<AnthropicError>(messages(), { headers: headers('sk-ant-api03-not-the-right-key-000000000000'), body: extraction });
      const missing = await call<AnthropicError>(messages(), { headers: { 'anthropic-version': '2023-06-01' }, body: extraction });
      const noVersion = await call<AnthropicError>(messages(), { headers: { 'x-api-key': ANTHROPIC_KEY }, body: extraction });

      expect(bad).toMatchObject({ status: 401, body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } } });
      expect(missing).toMatchObject({ status: 401, body: { type: 'error', error: { type: 'authentication_error' } } });
      expect(noVersion).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error' } } });
    });

    it.each([
      ['no max_tokens', { max_tokens: undefined }, 'max_tokens'],
      ['a forced tool it was not given', { tool_choice: { type: 'tool', name: 'other' } }, "Tool 'other' not found"],
      ['a tool schema that is not an object', { tools: [{ name: 'knowledge_graph', input_schema: { type: 'array' } }] }, 'input_schema.type'],
    ])('refuses a request with %s as the real API does: 400 invalid_request_error', async (_, change, message) => {
      const answer = await call<AnthropicError>(messages(), { headers: headers(), body: { ...extraction, ...change } });
      expect(answer).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error' } } });
      expect(answer.body.error.message).toContain(message);
    });

    it.each([
      [429, 429, 'rate_limit_error'],
      [503, 529, 'overloaded_error'],
      [500, 500, 'api_error'],
      [403, 403, 'permission_error'],
      [400, 400, 'invalid_request_error'],
    ] as const)('answers a scripted %i as HTTP %i %s', async (scripted, status, type) => {
      simulator.failNext('anthropic', { status: scripted, retryAfterSeconds: 9 });
      const answer = await call<AnthropicError>(messages(), { headers: headers(), body: extraction });

      expect(answer).toMatchObject({ status, body: { type: 'error', error: { type } } });
      expect(answer.headers.get('retry-after')).toBe(scripted === 429 ? '9' : null);
    });
  });

  describe('control', () => {
    it('applies latency globally, and per provider where one is set', async () => {
      // far longer than a loopback round trip: the order of the answers shows which request waited
      simulator.setLatency(2_000);
      simulator.setLatency(0, 'openai');
      const answered: string[] = [];
      const passed = simulator.gate({ provider: 'gemini' });
      const slow = call(`${urls.geminiBaseUrl}/v1beta/models`, { headers: { 'x-goog-api-key': GEMINI_KEY } }).then(({ status }) =>
        answered.push(`gemini ${status}`),
      );
      // the Gemini request has reached the simulator; let it on into its latency
      await passed.waitForHeld(1);
      passed.open();

      const fast = await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) });
      answered.push(`openai ${fast.status}`);
      expect(answered).toEqual(['openai 200']);
      await slow;
      expect(answered).toEqual(['openai 200', 'gemini 200']);
    });

    it('switches valid keys at run time', async () => {
      simulator.setValidKeys('openai', ['sk-rotated-key-0000000000000']);
      expect((await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) })).status).toBe(401);
      simulator.setValidKeys('openai', [OPENAI_KEY]);
      expect((await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) })).status).toBe(200);
    });

    it('lists distinct fingerprints per provider and forgets everything on clear()', async () => {
      for (const key of [OPENAI_KEY, 'sk-other-0000000000000000', OPENAI_KEY]) await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(key) });
      simulator.failNext('openai', { status: 500 });

      expect(simulator.keysSeen('openai')).toEqual([fingerprintForSimulator(OPENAI_KEY), fingerprintForSimulator('sk-other-0000000000000000')]);
      expect(simulator.keysSeen('gemini')).toEqual([]);
      simulator.clear();
      expect(simulator.requests).toEqual([]);
      expect((await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) })).status).toBe(200);
    });

    it('holds each key to its requests per sliding window, answering 429 in each wire format with the wait as retry-after', async () => {
      simulator.setKeyRateLimit(3, 60_000);
      const openai = () => call<OpenAiError>(`${urls.openaiBaseUrl}/chat/completions`, { headers: bearer(OPENAI_KEY), body: chat() });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await openai()).status);
      const limited = await openai();
      // another key of the same provider has its own allowance; a GET (no completion) is not counted
      const other = await call(`${urls.deepseekBaseUrl}/chat/completions`, { headers: bearer('sk-other-key-0000000000'), body: chat() });
      const models = await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) });
      const geminiStatuses = [];
      for (let i = 0; i < 4; i++) {
        const answer = await call<GeminiError>(`${urls.geminiBaseUrl}/v1beta/models/gemini-2.0-flash:generateContent`, {
          headers: { 'x-goog-api-key': GEMINI_KEY },
          body: gemini(),
        });
        geminiStatuses.push(answer.status);
        if (answer.status === 429)
          expect(answer.body.error.details).toContainEqual(expect.objectContaining({ retryDelay: expect.stringMatching(/^\d+s$/) }));
      }

      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(limited.body.error.code).toBe('rate_limit_exceeded');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect(other.status).toBe(200);
      expect(models.status).toBe(200);
      expect(geminiStatuses).toEqual([200, 200, 200, 429]);
      expect(simulator.keyStats(fingerprintForSimulator(OPENAI_KEY))).toMatchObject({ completions: 6, rateLimited: 3, maxInFlight: 1, inFlight: 0 });
    });

    it('lets a key in again once its oldest request leaves the window', async () => {
      simulator.setKeyRateLimit(2, 1_000);
      const openai = () => call(`${urls.openaiBaseUrl}/chat/completions`, { headers: bearer(OPENAI_KEY), body: chat() });
      expect([(await openai()).status, (await openai()).status, (await openai()).status]).toEqual([200, 200, 429]);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await openai()).status).toBe(200);
    });

    it('counts the requests of a key it is answering at once', async () => {
      const gate = simulator.gate({ provider: 'openai' });
      const calls = [1, 2, 3].map(() => call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) }));
      await gate.waitForHeld(3);
      expect(simulator.keyStats(fingerprintForSimulator(OPENAI_KEY))).toMatchObject({ inFlight: 3, maxInFlight: 3 });
      gate.open();
      await Promise.all(calls);
      expect(simulator.keyStats(fingerprintForSimulator(OPENAI_KEY))).toMatchObject({ inFlight: 0, maxInFlight: 3 });
    });

    it('shows listeners every request as it arrives, before a gate holds it, until reset', async () => {
      const seen: { marker: string | undefined; keyFingerprint: string | null }[] = [];
      simulator.onRequest(({ bodyText, keyFingerprint }) => seen.push({ marker: /\[\[tenant (\d)\]\]/.exec(bodyText)?.[1], keyFingerprint }));
      const gate = simulator.gate({ marker: '[[tenant 2]]' });
      const held = call(`${urls.openaiBaseUrl}/chat/completions`, { headers: bearer(OPENAI_KEY), body: chat({ user: '[[tenant 2]]' }) });
      await gate.waitForHeld(1);
      await call(`${urls.openaiBaseUrl}/models`, { headers: bearer('sk-other-0000000000000000') });

      expect(seen).toEqual([
        { marker: '2', keyFingerprint: fingerprintForSimulator(OPENAI_KEY) },
        { marker: undefined, keyFingerprint: fingerprintForSimulator('sk-other-0000000000000000') },
      ]);
      gate.open();
      expect((await held).status).toBe(200);
      simulator.reset();
      await call(`${urls.openaiBaseUrl}/models`, { headers: bearer(OPENAI_KEY) });
      expect(seen).toHaveLength(2);
    });

    it('stops and frees its port', async () => {
      const other = new ProviderSimulator();
      const { openaiBaseUrl } = await other.start();
      await other.stop();
      await expect(fetch(`${openaiBaseUrl}/models`)).rejects.toThrow();
    });
  });
});

describe('parseValidKeysSpec', () => {
  it('reads provider:key pairs', () => {
    expect(parseValidKeysSpec('openai:sk-a:b, gemini:AIza1,openai:sk-c,deepseek:*')).toEqual({
      openai: ['sk-a:b', 'sk-c'],
      gemini: ['AIza1'],
      deepseek: ['*'],
    });
    expect(parseValidKeysSpec('')).toEqual({});
  });

  it('names a bad entry by position, never by its text', () => {
    expect(() => parseValidKeysSpec('openai:sk-1,claude:sk-secret-value')).toThrow(
      'Entry 2 of the valid keys must look like <openai|gemini|deepseek|anthropic|azure-openai|custom-openai>:<key>',
    );
    expect(() => parseValidKeysSpec('sk-secret-value')).toThrow(/^Entry 1 /);
  });
});

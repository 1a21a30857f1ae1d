import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { last4Of, type ProviderId } from '#libs/common';
import { EgressPolicy } from '#libs/egress';
import { FAULT_MARKERS, ProviderSimulator, type SimulatorUrls, simulatorBaseUrls, simulatorTarget } from '#libs/testing';
import { LlmClientFactory } from './llm-client.factory.js';
import {
  AnswerBlockedError,
  AnswerRefusedError,
  AnswerTruncatedError,
  AnswerUnparsableError,
  LlmError,
  ProviderUnavailableError,
} from './llm.errors.js';

const KEYS: Record<ProviderId, string> = {
  openai: `sk-proj-${randomBytes(24).toString('hex')}`,
  gemini: `AIza${randomBytes(20).toString('hex')}`,
  deepseek: `sk-${randomBytes(16).toString('hex')}`,
  anthropic: `sk-ant-api03-${randomBytes(40).toString('hex')}`,
  'azure-openai': randomBytes(16).toString('hex'),
  'custom-openai': `gw-${randomBytes(12).toString('hex')}`,
};
const SCHEMA = { name: 'knowledge_graph', schema: { type: 'object' } };
const TEXT = 'Alice Johnson from Acme Corp met Bob Smith.';

/**
 * How each provider's odd answers become typed outcomes, through the real SDKs against the
 * simulator's fault markers: what is usable is repaired, what is record-specific is a non-retryable
 * UnusableAnswerError with the provider's finish reason, and a 200 without an answer is retryable.
 */
describe('Answer classification (real SDKs, simulator fault markers)', () => {
  const simulator = new ProviderSimulator({
    validKeys: {
      openai: [KEYS.openai],
      gemini: [KEYS.gemini],
      deepseek: [KEYS.deepseek],
      anthropic: [KEYS.anthropic],
      'azure-openai': [KEYS['azure-openai']],
      'custom-openai': [KEYS['custom-openai']],
    },
  });
  let factory: LlmClientFactory;
  let urls: SimulatorUrls;

  beforeAll(async () => {
    urls = await simulator.start();
    const egress = new EgressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.1/32'] });
    factory = new LlmClientFactory({ baseUrls: simulatorBaseUrls(urls), timeoutMs: 5_000, egress });
  });
  afterEach(() => simulator.reset());
  afterAll(() => simulator.stop());

  const complete = (provider: ProviderId, user: string) => {
    const { model, endpoint } = simulatorTarget(provider, urls);
    return factory
      .create(provider, KEYS[provider], { tenantLabel: 'brennan', keyLast4: last4Of(KEYS[provider]) }, model, endpoint)
      .complete({ system: 'Extract entities.', user, jsonSchema: SCHEMA });
  };

  async function failureOf(promise: Promise<unknown>): Promise<LlmError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof LlmError) return error;
      throw new Error(`expected an LlmError, got ${String(error)}`, { cause: error });
    }
    throw new Error('expected the call to fail');
  }

  describe.each(['openai', 'deepseek', 'gemini', 'azure-openai', 'custom-openai'] as const)('%s', (provider) => {
    it.each([FAULT_MARKERS.prose, FAULT_MARKERS.trailingCommas, FAULT_MARKERS.nullDescription])(
      'repairs an answer with %s into the JSON meant',
      async (marker) => {
        const result = await complete(provider, `${TEXT} ${marker}`);
        expect(result.json).toMatchObject({ entities: expect.arrayContaining([expect.objectContaining({ name: 'Alice Johnson' })]) as unknown });
      },
    );

    it('refuses prose without JSON as EXTRACTION_UNPARSABLE, never retryable', async () => {
      const error = await failureOf(complete(provider, `${TEXT} ${FAULT_MARKERS.notJson}`));
      expect(error).toBeInstanceOf(AnswerUnparsableError);
      expect(error).toMatchObject({ code: 'EXTRACTION_UNPARSABLE', retryable: false });
    });

    it('reads a cut-off answer as EXTRACTION_TRUNCATED with the finish reason', async () => {
      const error = await failureOf(complete(provider, `${TEXT} ${FAULT_MARKERS.truncated}`));
      expect(error).toBeInstanceOf(AnswerTruncatedError);
      expect(error).toMatchObject({ code: 'EXTRACTION_TRUNCATED', retryable: false, finishReason: provider === 'gemini' ? 'MAX_TOKENS' : 'length' });
    });

    it('reads a safety stop as CONTENT_BLOCKED', async () => {
      const error = await failureOf(complete(provider, `${TEXT} ${FAULT_MARKERS.safety}`));
      expect(error).toBeInstanceOf(AnswerBlockedError);
      expect(error).toMatchObject({ code: 'CONTENT_BLOCKED', retryable: false, finishReason: provider === 'gemini' ? 'SAFETY' : 'content_filter' });
    });

    it('reads a 200 carrying an error object and no answer as a retryable PROVIDER_UNAVAILABLE, never a TypeError', async () => {
      const error = await failureOf(complete(provider, `${TEXT} ${FAULT_MARKERS.errorBody}`));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
      expect(error.message).toContain(provider === 'gemini' ? 'no candidates' : 'an error object instead of choices');
    });
  });

  it("reads OpenAI's refusal as EXTRACTION_REFUSED", async () => {
    const error = await failureOf(complete('openai', `${TEXT} ${FAULT_MARKERS.refusal}`));
    expect(error).toBeInstanceOf(AnswerRefusedError);
    expect(error).toMatchObject({ code: 'EXTRACTION_REFUSED', retryable: false, finishReason: 'stop' });
  });

  it("reads Gemini's blocked prompt (promptFeedback.blockReason, no candidates) as CONTENT_BLOCKED", async () => {
    const error = await failureOf(complete('gemini', `${TEXT} ${FAULT_MARKERS.blocked}`));
    expect(error).toBeInstanceOf(AnswerBlockedError);
    expect(error).toMatchObject({ code: 'CONTENT_BLOCKED', finishReason: 'SAFETY' });
    expect(error.message).toBe('gemini blocked the content (SAFETY)');
  });

  it("reads Azure OpenAI's prompt filter (a 400 with code content_filter) as CONTENT_BLOCKED, never retried", async () => {
    const error = await failureOf(complete('azure-openai', `${TEXT} ${FAULT_MARKERS.blocked}`));
    expect(error).toBeInstanceOf(AnswerBlockedError);
    expect(error).toMatchObject({ code: 'CONTENT_BLOCKED', retryable: false, finishReason: 'content_filter' });
    expect(error.message).toBe('azure-openai blocked the content (content_filter)');
  });

  describe('anthropic (forced tool use)', () => {
    it.each([FAULT_MARKERS.prose, FAULT_MARKERS.nullDescription])('repairs an answer with %s into the JSON meant', async (marker) => {
      const result = await complete('anthropic', `${TEXT} ${marker}`);
      expect(result.json).toMatchObject({ entities: expect.arrayContaining([expect.objectContaining({ name: 'Alice Johnson' })]) as unknown });
    });

    it('repairs a malformed tool input (the object sent as a damaged JSON string)', async () => {
      const result = await complete('anthropic', `${TEXT} ${FAULT_MARKERS.trailingCommas}`);
      expect(result.json).toMatchObject({ entities: expect.arrayContaining([expect.objectContaining({ name: 'Alice Johnson' })]) as unknown });
      expect(result.finishReason).toBe('tool_use');
    });

    it('reads an answer with no tool_use block and no JSON in its text as EXTRACTION_UNPARSABLE', async () => {
      const error = await failureOf(complete('anthropic', `${TEXT} ${FAULT_MARKERS.notJson}`));
      expect(error).toBeInstanceOf(AnswerUnparsableError);
      expect(error).toMatchObject({ code: 'EXTRACTION_UNPARSABLE', retryable: false, finishReason: 'end_turn' });
    });

    it('reads stop_reason "max_tokens" as EXTRACTION_TRUNCATED, whatever the partial tool input holds', async () => {
      const error = await failureOf(complete('anthropic', `${TEXT} ${FAULT_MARKERS.truncated}`));
      expect(error).toBeInstanceOf(AnswerTruncatedError);
      expect(error).toMatchObject({ code: 'EXTRACTION_TRUNCATED', retryable: false, finishReason: 'max_tokens' });
      // the tokens of an unusable answer were billed all the same
      expect(error).toMatchObject({ usage: { inputTokens: expect.any(Number) as unknown, outputTokens: expect.any(Number) as unknown } });
    });

    it.each([FAULT_MARKERS.refusal, FAULT_MARKERS.safety])('reads stop_reason "refusal" (%s) as EXTRACTION_REFUSED', async (marker) => {
      const error = await failureOf(complete('anthropic', `${TEXT} ${marker}`));
      expect(error).toBeInstanceOf(AnswerRefusedError);
      expect(error).toMatchObject({ code: 'EXTRACTION_REFUSED', retryable: false, finishReason: 'refusal' });
    });

    it('reads a 200 carrying an error object and no content as a retryable PROVIDER_UNAVAILABLE', async () => {
      const error = await failureOf(complete('anthropic', `${TEXT} ${FAULT_MARKERS.errorBody}`));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
      expect(error.message).toContain('an error object instead of content');
    });
  });

  it('answers clean JSON when the simulator is told to ignore its markers', async () => {
    simulator.setFaults(false);
    await expect(complete('openai', `${TEXT} ${FAULT_MARKERS.refusal}`)).resolves.toMatchObject({ finishReason: 'stop' });
  });
});

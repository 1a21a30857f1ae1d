import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ProviderUnavailableError, LlmClientFactory, type LlmProvider } from '#libs/llm';
import { FAULT_MARKERS, ProviderSimulator, simulatorBaseUrls } from '#libs/testing';
import { chunksOf } from './chunker.js';
import { GraphExtractor, MIN_SPLIT_CHUNK_CHARS, type RecordExtraction, recordText } from './graph-extractor.service.js';

const KEY = 'sk-extractor-spec-0000000000000000000001';
const PARAGRAPH = 'Alice Johnson from Acme Corp met Bob Smith about the renewal. They agreed to follow up with Globex Inc next week.';

const record = (body: string) => ({ id: 'rec-1', fromAddr: 'alice@example.test', toAddr: 'bob@example.test', subject: 'Renewal', body });

describe(GraphExtractor.name, () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: [KEY] } });
  const sut = new GraphExtractor();
  let llm: LlmProvider;

  beforeAll(async () => {
    const factory = new LlmClientFactory({ baseUrls: simulatorBaseUrls(await simulator.start()), timeoutMs: 5_000 });
    llm = factory.create('openai', KEY, { tenantLabel: 'brennan', keyLast4: null });
  });
  afterEach(() => simulator.reset());
  afterAll(() => simulator.stop());

  const names = (outcome: RecordExtraction) => (outcome.ok ? outcome.answers.flatMap((a) => a.entities.map((e) => e.name)) : []);

  it('sends a long record chunk by chunk, one answer per chunk', async () => {
    const long = record(Array.from({ length: 400 }, (_, i) => `${PARAGRAPH} 東京の会議 ${i}.`).join('\n\n'));
    const chunks = [...chunksOf(recordText(long))].length;
    expect(chunks).toBeGreaterThan(10);

    const outcome = await sut.extract(llm, long);

    expect(outcome.ok && outcome.answers).toHaveLength(chunks);
    expect(simulator.requests).toHaveLength(chunks);
    expect(names(outcome)).toEqual(expect.arrayContaining(['Alice Johnson', 'Acme Corp', 'Globex Inc']));
  });

  it('splits a chunk whose answer was cut off and extracts both halves', async () => {
    // about 1,100 characters: cut off as a whole, answered once halved under the 700-character limit
    const body = `${Array.from({ length: 9 }, () => PARAGRAPH).join('\n\n')} [[sim:truncate-above:700]]`;
    const outcome = await sut.extract(llm, record(body));

    expect(outcome.ok).toBe(true);
    expect(names(outcome)).toEqual(expect.arrayContaining(['Alice Johnson', 'Acme Corp', 'Bob Smith']));
    // one cut-off answer, then the halves
    expect(simulator.requests.length).toBeGreaterThanOrEqual(3);
  });

  it(`gives up below ${MIN_SPLIT_CHUNK_CHARS * 2} characters with EXTRACTION_TRUNCATED and the finish reason`, async () => {
    const outcome = await sut.extract(llm, record(`${PARAGRAPH} ${FAULT_MARKERS.truncated}`));
    expect(outcome).toEqual({
      ok: false,
      failure: {
        code: 'EXTRACTION_TRUNCATED',
        reason: `The openai answer was cut off at the output limit (length), even in chunks of ${MIN_SPLIT_CHUNK_CHARS} characters`,
        finishReason: 'length',
      },
    });
    expect(simulator.requests).toHaveLength(1);
  });

  it('fails the record, not the job, for an answer of the wrong shape', async () => {
    const outcome = await sut.extract(llm, record(`${PARAGRAPH} ${FAULT_MARKERS.wrongShape}`));
    expect(outcome).toMatchObject({ ok: false, failure: { code: 'EXTRACTION_INVALID' } });
  });

  it('keeps entities whose description is null, with an empty description', async () => {
    const outcome = await sut.extract(llm, record(`${PARAGRAPH} ${FAULT_MARKERS.nullDescription}`));
    expect(outcome.ok && outcome.answers[0].entities.every((e) => e.description === '')).toBe(true);
    expect(names(outcome)).toContain('Alice Johnson');
  });

  it('removes NUL characters and lone surrogates, which Postgres cannot store, and keeps the rest', async () => {
    const outcome = await sut.extract(llm, record(`${PARAGRAPH} ${FAULT_MARKERS.unstorable}`));
    expect(names(outcome)).toEqual(expect.arrayContaining(['NulByte Holdings', 'Lone Surrogate']));
    const text = JSON.stringify(outcome);
    expect(text).not.toContain('\\u0000');
    expect(/\\ud[89ab]/i.test(text)).toBe(false);
  });

  it('throws what is not the record’s fault (a 200 without an answer), for the job to retry or stop', async () => {
    await expect(sut.extract(llm, record(`${PARAGRAPH} ${FAULT_MARKERS.errorBody}`))).rejects.toBeInstanceOf(ProviderUnavailableError);
  });
});

describe(recordText.name, () => {
  it('shows the model the Cc recipients when a record has any, and no Cc line otherwise', () => {
    expect(recordText({ ...record('Hello'), ccAddr: 'carol@example.test, Dan <dan@example.test>' })).toBe(
      'From: alice@example.test\nTo: bob@example.test\nCc: carol@example.test, Dan <dan@example.test>\nSubject: Renewal\n\nHello',
    );
    expect(recordText({ ...record('Hello'), ccAddr: '' })).toBe('From: alice@example.test\nTo: bob@example.test\nSubject: Renewal\n\nHello');
  });
});

import { describe, expect, it } from '@jest/globals';
import { parseJsonAnswer } from './json-answer.js';
import { AnswerUnparsableError } from './llm.errors.js';
import { ProviderFailures } from './provider-failures.js';

const failures = new ProviderFailures('openai', { tenantLabel: 'brennan', keyLast4: '4207' });
const graph = { entities: [{ name: 'Alice Johnson', type: 'person', description: 'An engineer' }], relationships: [] };

describe(parseJsonAnswer.name, () => {
  it.each([
    ['clean JSON', JSON.stringify(graph)],
    ['JSON in a fence', `\`\`\`json\n${JSON.stringify(graph, null, 2)}\n\`\`\``],
    ['prose around a fenced block', `Sure! Here it is:\n\n\`\`\`json\n${JSON.stringify(graph)}\n\`\`\`\n\nAnything else?`],
    ['prose around bare JSON', `The graph is ${JSON.stringify(graph)} as requested.`],
    ['trailing commas', '{"entities": [{"name": "Alice Johnson", "type": "person", "description": "An engineer",},], "relationships": [],}'],
    [
      'single quotes and an unquoted key',
      "{entities: [{'name': 'Alice Johnson', 'type': 'person', 'description': 'An engineer'}], 'relationships': []}",
    ],
  ])('reads %s', (_, text) => {
    expect(parseJsonAnswer(text, failures)).toEqual(graph);
  });

  it.each([
    ['prose without JSON', 'I could not find a knowledge graph in this text.'],
    ['an empty answer', ''],
  ])('refuses %s with a record-specific, non-retryable error', (_, text) => {
    let error: unknown;
    try {
      parseJsonAnswer(text, failures, 'stop');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AnswerUnparsableError);
    expect(error).toMatchObject({ code: 'EXTRACTION_UNPARSABLE', retryable: false, finishReason: 'stop' });
  });
});

import { describe, expect, it } from '@jest/globals';
import { extractEntitiesDeterministically } from './entity-extraction.js';

describe('extractEntitiesDeterministically', () => {
  const text = 'Hi Bob, Alice Smith from Acme Corp wrote to bob@example.com about IBM. Thanks!\nAlice Smith met Carol Jones in Berlin.';

  it('finds people, organizations and email addresses in order of first mention', () => {
    expect(extractEntitiesDeterministically(text).entities.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: 'Bob', type: 'person' },
      { name: 'Alice Smith', type: 'person' },
      { name: 'Acme Corp', type: 'organization' },
      { name: 'bob@example.com', type: 'email' },
      { name: 'IBM', type: 'organization' },
      { name: 'Carol Jones', type: 'person' },
      { name: 'Berlin', type: 'person' },
    ]);
  });

  it('relates neighbours within a sentence, once, with a strength from 1 to 10', () => {
    const { relationships } = extractEntitiesDeterministically(text);

    expect(relationships.map((r) => [r.source, r.target])).toEqual([
      ['Bob', 'Alice Smith'],
      ['Alice Smith', 'Acme Corp'],
      ['Acme Corp', 'bob@example.com'],
      ['bob@example.com', 'IBM'],
      ['Alice Smith', 'Carol Jones'],
      ['Carol Jones', 'Berlin'],
    ]);
    for (const r of relationships) {
      expect(Number.isInteger(r.strength) && r.strength >= 1 && r.strength <= 10).toBe(true);
      expect(r.description).toBe(`${r.source} appears together with ${r.target}`);
    }
  });

  it('is deterministic', () => {
    expect(extractEntitiesDeterministically(text)).toEqual(extractEntitiesDeterministically(text));
  });

  it('finds nothing in text without names', () => {
    expect(extractEntitiesDeterministically('see you on monday. thanks!')).toEqual({ entities: [], relationships: [] });
  });
});

import { describe, expect, it } from '@jest/globals';
import { describeUnstorableText, findUnstorableText, JSON_MAX_DEPTH, jsonNestingExceeds } from './json-input.js';
import { unstorableTextReason } from './validation.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const NUL = 'must not contain NUL (U+0000) characters';
const LONE = 'must not contain lone UTF-16 surrogates (U+D800 to U+DFFF without their pair)';

describe('jsonNestingExceeds', () => {
  it('counts arrays and objects, up to the cap included', () => {
    const atCap = '['.repeat(JSON_MAX_DEPTH) + ']'.repeat(JSON_MAX_DEPTH);
    expect(jsonNestingExceeds(bytes(atCap))).toBe(false);
    expect(jsonNestingExceeds(bytes(`[${atCap}]`))).toBe(true);
    expect(jsonNestingExceeds(bytes('{"a":{"b":{"c":[1]}}}'), 3)).toBe(true);
    expect(jsonNestingExceeds(bytes('{"a":{"b":{"c":1}}}'), 3)).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonNestingExceeds(bytes(JSON.stringify({ text: '[[[[{{{{' })), 1)).toBe(false);
    expect(jsonNestingExceeds(bytes(JSON.stringify({ text: 'say \\"[[[[\\" \\\\' })), 1)).toBe(false);
    expect(jsonNestingExceeds(bytes(`{"a":"\\"", "b":[[1]]}`), 2)).toBe(true);
  });

  it('judges 2,000 levels in 4 KB without parsing them', () => {
    expect(jsonNestingExceeds(bytes('['.repeat(2_000) + ']'.repeat(2_000)))).toBe(true);
  });
});

describe('findUnstorableText', () => {
  it('finds NUL and lone surrogates in values and property names, with the path to them', () => {
    expect(findUnstorableText({ name: 'ok', nested: { list: ['fine', 'a\u0000'] } })).toEqual({ path: 'nested.list.1', inKey: false, reason: NUL });
    expect(findUnstorableText({ outer: { '\ud800': 1 } })).toEqual({ path: 'outer', inKey: true, reason: LONE });
    expect(findUnstorableText('\udc00')).toEqual({ path: '', inKey: false, reason: LONE });
  });

  it('reports the first one in the order the fields were sent', () => {
    expect(findUnstorableText({ a: 'x\u0000', b: 'y\u0000' })?.path).toBe('a');
  });

  it('passes storable text, emoji (a surrogate pair) and non-strings', () => {
    expect(findUnstorableText({ text: 'Launch 🚀', n: 1e308, b: true, z: null, list: [[], {}] })).toBeUndefined();
    expect(findUnstorableText(undefined)).toBeUndefined();
  });

  it('walks deep values without recursion', () => {
    let deep: unknown = 'end\u0000';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(findUnstorableText(deep)?.reason).toBe(NUL);
  });
});

describe('describeUnstorableText', () => {
  it('names the field, the whole value, or a place from the top of an array', () => {
    expect(describeUnstorableText({ path: 'name', inKey: false, reason: NUL }, 'the request body')).toBe(`name ${NUL}`);
    expect(describeUnstorableText({ path: '', inKey: false, reason: NUL }, 'the request body')).toBe(`the request body ${NUL}`);
    expect(describeUnstorableText({ path: '0.body', inKey: false, reason: LONE }, 'the request body')).toBe(`the request body at 0.body ${LONE}`);
    expect(describeUnstorableText({ path: '', inKey: true, reason: LONE }, 'the query string')).toBe(`a property name in the query string ${LONE}`);
  });
});

describe('unstorableTextReason', () => {
  it('is undefined for text Postgres stores', () => {
    expect(unstorableTextReason('plain, ünïcödé, 🚀')).toBeUndefined();
    expect(unstorableTextReason('a\u0000')).toBe(NUL);
    expect(unstorableTextReason('\ud83d')).toBe(LONE);
  });
});

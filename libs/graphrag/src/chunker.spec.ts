import { describe, expect, it } from '@jest/globals';
import { chunksOf, chunkText, DEFAULT_CHUNK_CHARS } from './chunker.js';

/** The chunker as it was before it became lazy (a list built from a shrinking copy of the rest): the reference. */
function eagerChunks(text: string, maxChars: number): string[] {
  const clean = text.trim();
  if (clean.length <= maxChars) return clean ? [clean] : [];
  const chunks: string[] = [];
  let rest = clean;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    const floor = Math.floor(window.length / 2);
    let cut = window.length;
    for (const separator of ['\n\n', '\n', '. ', ' ']) {
      const at = window.lastIndexOf(separator);
      if (at >= floor) {
        cut = at + separator.length;
        break;
      }
    }
    chunks.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) chunks.push(rest);
  return chunks.filter(Boolean);
}

/** Deterministic pseudo-random text of words, sentences, lines, paragraphs, CJK runs and emoji. */
function textOf(seed: number, length: number): string {
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648);
  const pieces = ['Alice', 'Acme Corp', 'met', '. ', ' ', ' ', '\n', '\n\n', '東京の会議', '😀', '  ', '\t', 'x'.repeat(300), '語'.repeat(90)];
  let text = '';
  while (text.length < length) text += pieces[next() % pieces.length] + (next() % 3 === 0 ? ' ' : '');
  return text.slice(0, length);
}

describe('chunksOf', () => {
  it('cuts exactly the chunks the eager chunker cut, for short, long and odd texts', () => {
    const texts = [
      '',
      '   \n\n  ',
      'short',
      '  padded both sides \n',
      'y'.repeat(DEFAULT_CHUNK_CHARS),
      'y'.repeat(DEFAULT_CHUNK_CHARS + 1),
      '語'.repeat(200_000),
      ...Array.from({ length: 40 }, (_, i) => textOf(i + 1, 500 + i * 997)),
      ` \n${textOf(99, 50_000)}\n\n `,
    ];
    for (const text of texts) {
      for (const maxChars of [DEFAULT_CHUNK_CHARS, 700, 251]) {
        expect([...chunksOf(text, maxChars)]).toEqual(eagerChunks(text, maxChars));
      }
    }
    expect(chunkText('a b', 1)).toEqual(eagerChunks('a b', 1));
  });

  it('hands out one chunk at a time, each within the limit, covering the text', () => {
    const text = textOf(7, 200_000);
    const chunks = chunksOf(text);
    const first = chunks.next();
    expect(first.done).toBe(false);
    let count = 1;
    let covered = (first.value as string).replace(/\s+/g, '');
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(DEFAULT_CHUNK_CHARS);
      expect(chunk).toBe(chunk.trim());
      covered += chunk.replace(/\s+/g, '');
      count++;
    }
    expect(count).toBeGreaterThanOrEqual(50);
    // every non-space character is in exactly one chunk, in order
    expect(covered).toBe(text.replace(/\s+/g, ''));
  });
});

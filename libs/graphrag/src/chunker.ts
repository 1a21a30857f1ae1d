/** Longest chunk sent in one extraction call, in characters (roughly 1,000 tokens). */
export const DEFAULT_CHUNK_CHARS = 4_000;

const SPACE = /\s/;

/**
 * Splits text into chunks of at most `maxChars`, preferring paragraph, then line, then sentence,
 * then word boundaries, so an entity name is rarely cut in two. Lazy: a chunk is cut only when the
 * caller asks for it, so a 200,000-character record never exists as a list of chunk strings.
 */
export function* chunksOf(text: string, maxChars = DEFAULT_CHUNK_CHARS): Generator<string, void, undefined> {
  // offsets into the one text rather than a shrinking copy of its rest
  let end = text.length;
  while (end > 0 && SPACE.test(text[end - 1])) end--;
  let start = skipSpace(text, 0, end);
  while (end - start > maxChars) {
    const window = text.slice(start, start + maxChars);
    const cut = lastBoundary(window);
    const chunk = window.slice(0, cut).trim();
    if (chunk) yield chunk;
    start = skipSpace(text, start + cut, end);
  }
  if (end > start) yield text.slice(start, end);
}

/** {@link chunksOf} as a list, for text known to be short (a chunk split in two). */
export function chunkText(text: string, maxChars = DEFAULT_CHUNK_CHARS): string[] {
  return [...chunksOf(text, maxChars)];
}

function skipSpace(text: string, from: number, end: number): number {
  let at = from;
  while (at < end && SPACE.test(text[at])) at++;
  return at;
}

function lastBoundary(window: string): number {
  const floor = Math.floor(window.length / 2);
  for (const separator of ['\n\n', '\n', '. ', ' ']) {
    const at = window.lastIndexOf(separator);
    if (at >= floor) return at + separator.length;
  }
  return window.length;
}

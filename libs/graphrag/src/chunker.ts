/** Longest chunk sent in one extraction call, in characters (roughly 1,000 tokens). */
export const DEFAULT_CHUNK_CHARS = 4_000;

/**
 * Splits text into chunks of at most `maxChars`, preferring paragraph, then line, then sentence,
 * then word boundaries, so an entity name is rarely cut in two.
 */
export function chunkText(text: string, maxChars = DEFAULT_CHUNK_CHARS): string[] {
  const clean = text.trim();
  if (clean.length <= maxChars) return clean ? [clean] : [];
  const chunks: string[] = [];
  let rest = clean;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    const cut = lastBoundary(window);
    chunks.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) chunks.push(rest);
  return chunks.filter(Boolean);
}

function lastBoundary(window: string): number {
  const floor = Math.floor(window.length / 2);
  for (const separator of ['\n\n', '\n', '. ', ' ']) {
    const at = window.lastIndexOf(separator);
    if (at >= floor) return at + separator.length;
  }
  return window.length;
}

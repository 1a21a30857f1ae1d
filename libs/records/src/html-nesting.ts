// elements that never hold content, so their start tag opens no level (HTML Living Standard, 13.1.2)
const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
// elements a parser closes when a sibling opens (li after li, td after td): a run of them left unclosed
// is sloppy but common markup, not nesting, so they are not counted
const IMPLIED_END_ELEMENTS = new Set(['p', 'li', 'dt', 'dd', 'option', 'optgroup', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot', 'rt', 'rp']);
const TAG_OR_COMMENT = /<!--[\s\S]*?(?:-->|$)|<(\/?)([A-Za-z][A-Za-z0-9:_-]*)/g;

/**
 * Whether `html` nests elements deeper than `maxDepth`, in one linear pass. htmlparser2 (under
 * html-to-text) keeps its open elements at the front of an array, so its work grows with the square of
 * the depth: 100,000 nested <div> take about 2 s, a megabyte of them most of a minute on the event loop.
 * A start tag opens a level, an end tag closes down to the nearest open element of its name (and is
 * ignored when there is none), comments are skipped; void and implied-end elements are left out.
 */
export function exceedsNestingDepth(html: string, maxDepth: number): boolean {
  const stack: string[] = [];
  const open = new Map<string, number>();
  for (const [, closing, rawName] of html.matchAll(TAG_OR_COMMENT)) {
    if (rawName === undefined) continue;
    const name = rawName.toLowerCase();
    if (VOID_ELEMENTS.has(name) || IMPLIED_END_ELEMENTS.has(name)) continue;
    if (!closing) {
      stack.push(name);
      open.set(name, (open.get(name) ?? 0) + 1);
      if (stack.length > maxDepth) return true;
    } else if (open.get(name)) {
      // pops are paid for by the pushes before them: the pass stays linear
      for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
        open.set(top, (open.get(top) ?? 1) - 1);
        if (top === name) break;
      }
    }
  }
  return false;
}

import { unstorableTextReason } from './validation.js';

/**
 * How deep arrays and objects may nest in a JSON body. No request of this API nests past 4 levels;
 * 64 leaves room for any client's wrapping while keeping every walk over a body (validation, logging,
 * error messages) far from the recursion limits that 2,000 levels in a 4 KB body would reach.
 */
export const JSON_MAX_DEPTH = 64;

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether the JSON text in `bytes` (UTF-8) nests arrays or objects deeper than `maxDepth`, judged on
 * the bytes before any parsing: one pass, no allocation, brackets inside strings (RFC 8259 section 7:
 * a string ends at an unescaped quote) not counted. Malformed text is left to the parser to refuse.
 */
export function jsonNestingExceeds(bytes: Uint8Array, maxDepth: number = JSON_MAX_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** Where in a value text Postgres cannot store was found, and why. */
export interface UnstorableText {
  /** Dotted path of the field (`records.3.body`); '' for the value itself. */
  path: string;
  /** Whether the text was a property name rather than a value. */
  inKey: boolean;
  /** e.g. "must not contain NUL (U+0000) characters". */
  reason: string;
}

/**
 * The first string (value or property name) in a parsed JSON value, or a query object, that
 * Postgres cannot store (see {@link unstorableTextReason}), found without recursion.
 */
export function findUnstorableText(value: unknown): UnstorableText | undefined {
  const pending: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: current, path } = next;
    if (typeof current === 'string') {
      const reason = unstorableTextReason(current);
      if (reason) return { path: path.join('.'), inKey: false, reason };
    } else if (current !== null && typeof current === 'object') {
      const entries = Object.entries(current);
      for (const [key] of entries) {
        const reason = unstorableTextReason(key);
        if (reason) return { path: path.join('.'), inKey: true, reason };
      }
      // pushed last first, so fields are looked at in the order they were sent
      for (let i = entries.length - 1; i >= 0; i--) pending.push({ value: entries[i][1], path: [...path, entries[i][0]] });
    }
  }
  return undefined;
}

/** {@link UnstorableText} as a sentence naming the field, `where` naming the whole value ("the request body"). */
export function describeUnstorableText(found: UnstorableText, where: string): string {
  // a path from the top of an array ("0.body") names nothing on its own
  const field = !found.path ? where : /^\d/.test(found.path) ? `${where} at ${found.path}` : found.path;
  return found.inKey ? `a property name in ${field} ${found.reason}` : `${field} ${found.reason}`;
}

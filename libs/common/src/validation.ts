import { z } from 'zod';

/**
 * The one UUID check: 8-4-4-4-12 hex digits, as Postgres's uuid type accepts them (any version;
 * zod's `guid`). Checking first turns a malformed id into a 400 or a plain miss instead of a
 * database error. `message` replaces zod's when the check fails.
 */
export function uuidSchema(message?: string) {
  return z.guid(message === undefined ? undefined : { error: message });
}

const anyUuid = uuidSchema();

export function isUuid(value: unknown): value is string {
  return anyUuid.safeParse(value).success;
}

/** A zod issue as one short sentence that names the field, e.g. "sentAt must be an ISO 8601 date-time". */
export function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid input';
  const field = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && field && issue.message.includes('received undefined')) return `${field} is required`;
  if (issue.code === 'unrecognized_keys') return issue.message;
  if (issue.code === 'invalid_type' && !field) return `expected ${issue.expected}`;
  return issue.message.startsWith(field) || !field ? issue.message : `${field}: ${issue.message}`;
}

// a UTF-16 surrogate without its partner: Postgres text (UTF-8) cannot hold it
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);

/**
 * Why Postgres could not store `text` as sent, or undefined when it can: a NUL character (text and
 * jsonb refuse U+0000) or a lone UTF-16 surrogate (RFC 3629 section 3: UTF-8 has no encoding for
 * U+D800..U+DFFF). The API's one rule for client text is to refuse such text with 400 naming the
 * field, never to change it silently; model answers are cleaned with {@link storableText} instead.
 */
export function unstorableTextReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL (U+0000) characters';
  if (HAS_LONE_SURROGATE.test(text)) return 'must not contain lone UTF-16 surrogates (U+D800 to U+DFFF without their pair)';
  return undefined;
}

/**
 * Text as Postgres can store it: NUL characters and lone surrogates removed (Postgres text refuses
 * NUL, and UTF-8 has no encoding for a lone surrogate), everything else kept as it is.
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '').replace(LONE_SURROGATE, '');
}

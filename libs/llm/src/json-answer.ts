import { jsonrepair } from 'jsonrepair';
import type { JsonSchemaSpec } from './llm-provider.js';
import type { ProviderFailures } from './provider-failures.js';

/**
 * For providers whose JSON mode takes no schema (Gemini's responseMimeType, DeepSeek's
 * json_object), the schema travels in the system prompt so the model still knows the shape.
 */
export function withSchemaInstruction(system: string, spec: JsonSchemaSpec): string {
  return `${system}\n\nAnswer with one JSON object only, matching this JSON Schema named "${spec.name}":\n${JSON.stringify(spec.schema)}`;
}

const FENCED = /```(?:json)?\s*([\s\S]*?)\s*```/i;

/**
 * The JSON a model meant, from what it actually sent: as is when it parses; else the fenced block or
 * the outermost `{...}` in prose around it, repaired by jsonrepair (trailing commas, single quotes,
 * comments, unquoted keys, a missing bracket at the end).
 * @throws AnswerUnparsableError when no repair gives JSON (a record-specific failure, never retried)
 */
export function parseJsonAnswer(text: string, failures: ProviderFailures, finishReason?: string): unknown {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    // a model in JSON mode still wraps or damages its answer now and then: repair below
  }
  const fenced = FENCED.exec(trimmed)?.[1];
  const start = trimmed.indexOf('{');
  const end = trimmed.lastIndexOf('}');
  const candidate = fenced ?? (start >= 0 ? trimmed.slice(start, end > start ? end + 1 : undefined) : trimmed);
  let repaired: unknown;
  try {
    repaired = JSON.parse(jsonrepair(candidate));
  } catch {
    throw failures.unparsable(finishReason);
  }
  // jsonrepair turns plain prose into a JSON string: that is no answer to a request for an object
  if (typeof repaired !== 'object' || repaired === null) throw failures.unparsable(finishReason);
  return repaired;
}

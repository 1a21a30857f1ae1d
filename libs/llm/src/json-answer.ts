import type { JsonSchemaSpec } from './llm-provider.js';
import type { ProviderFailures } from './provider-failures.js';

/**
 * For providers whose JSON mode takes no schema (Gemini's responseMimeType, DeepSeek's
 * json_object), the schema travels in the system prompt so the model still knows the shape.
 */
export function withSchemaInstruction(system: string, spec: JsonSchemaSpec): string {
  return `${system}\n\nAnswer with one JSON object only, matching this JSON Schema named "${spec.name}":\n${JSON.stringify(spec.schema)}`;
}

/** A model that was asked for JSON and answered something else is treated as a transient failure. */
export function parseJsonAnswer(text: string, failures: ProviderFailures): unknown {
  // some models wrap JSON in a Markdown fence even in JSON mode
  const unfenced = text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  try {
    return JSON.parse(unfenced);
  } catch {
    throw failures.unavailable('answer was not valid JSON');
  }
}

import { z } from 'zod';

const MAX_NAME = 200;
const MAX_TYPE = 50;
const MAX_DESCRIPTION = 2_000;

/** What the model must answer; the same object is sent as the JSON schema of the request. */
export const EXTRACTION_JSON_SCHEMA = {
  name: 'knowledge_graph',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['entities', 'relationships'],
    properties: {
      entities: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'type', 'description'],
          properties: { name: { type: 'string' }, type: { type: 'string' }, description: { type: 'string' } },
        },
      },
      relationships: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['source', 'target', 'description', 'strength'],
          properties: {
            source: { type: 'string' },
            target: { type: 'string' },
            description: { type: 'string' },
            strength: { type: 'integer', minimum: 1, maximum: 10 },
          },
        },
      },
    },
  },
} as const;

export const EXTRACTION_SYSTEM_PROMPT = [
  'You extract a knowledge graph from an email.',
  'Return every notable entity (people, organizations, projects, products, places, email addresses) with a',
  'short type in lowercase and a one-sentence description, and the relationships between them: source and',
  'target are entity names exactly as listed in entities, with a description and a strength from 1 (weak) to 10 (strong).',
  'Answer with JSON only, matching the given schema.',
].join(' ');

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max * 4)
    .transform((s) => s.slice(0, max));

const description = z
  .string()
  .trim()
  .max(MAX_DESCRIPTION * 4)
  .transform((s) => s.slice(0, MAX_DESCRIPTION))
  .default('');

const entitySchema = z.object({
  name: text(MAX_NAME),
  type: text(MAX_TYPE).transform((t) => t.toLowerCase()),
  description,
});

const relationshipSchema = z.object({
  source: text(MAX_NAME),
  target: text(MAX_NAME),
  description,
  strength: z.coerce.number().transform((n) => Math.min(10, Math.max(1, Math.round(Number.isFinite(n) ? n : 5)))),
});

/**
 * Lenient about single bad items (dropped, not fatal: a model sometimes emits one malformed entry),
 * strict about the overall shape.
 */
export const extractionAnswerSchema = z.object({
  entities: z.array(z.unknown()).transform((items) =>
    items.flatMap((i) => {
      const parsed = entitySchema.safeParse(i);
      return parsed.success ? [parsed.data] : [];
    }),
  ),
  relationships: z
    .array(z.unknown())
    .default([])
    .transform((items) =>
      items.flatMap((i) => {
        const parsed = relationshipSchema.safeParse(i);
        return parsed.success ? [parsed.data] : [];
      }),
    ),
});

export type ExtractionAnswer = z.infer<typeof extractionAnswerSchema>;

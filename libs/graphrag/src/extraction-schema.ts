import { z } from 'zod';
import { describeIssue, storableText } from '#libs/common';

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

// a model's strings reach Postgres: what it cannot store goes first, then the limits apply
const text = (max: number) =>
  z
    .string()
    .transform(storableText)
    .pipe(
      z
        .string()
        .trim()
        .min(1)
        .max(max * 4),
    )
    .transform((s) => s.slice(0, max));

// a model that has nothing to say sends null or leaves it out: both are an empty description
const description = z
  .string()
  .nullish()
  .transform((s) => storableText(s ?? '').trim())
  .pipe(z.string().max(MAX_DESCRIPTION * 4))
  .transform((s) => s.slice(0, MAX_DESCRIPTION));

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

const answerShape = z.object({ entities: z.array(z.unknown()), relationships: z.array(z.unknown()).nullish() });

export type ExtractedEntity = z.output<typeof entitySchema>;
export type ExtractedRelationship = z.output<typeof relationshipSchema>;

export interface ExtractionAnswer {
  entities: ExtractedEntity[];
  relationships: ExtractedRelationship[];
}

/** A model's answer read against the schema: strict about the overall shape, lenient about single items. */
export type ParsedAnswer = { ok: true; answer: ExtractionAnswer; droppedItems: number } | { ok: false; problem: string };

/**
 * Reads an answer: a wrong overall shape is a problem (the record fails EXTRACTION_INVALID); a
 * single malformed entity or relationship (a model sometimes emits one) is dropped and counted.
 */
export function parseExtractionAnswer(json: unknown): ParsedAnswer {
  const shape = answerShape.safeParse(json);
  if (!shape.success) return { ok: false, problem: describeIssue(shape.error.issues[0]) };
  let droppedItems = 0;
  const keep = <T>(items: unknown[], schema: z.ZodType<T>): T[] =>
    items.flatMap((item) => {
      const parsed = schema.safeParse(item);
      if (!parsed.success) droppedItems++;
      return parsed.success ? [parsed.data] : [];
    });
  const answer = { entities: keep(shape.data.entities, entitySchema), relationships: keep(shape.data.relationships ?? [], relationshipSchema) };
  return { ok: true, answer, droppedItems };
}

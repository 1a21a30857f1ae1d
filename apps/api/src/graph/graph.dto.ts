import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import { GRAPH_PAGE_DEFAULT_LIMIT, GRAPH_PAGE_MAX_LIMIT } from '#libs/graphrag';

const singleString = (name: string, max?: number) => {
  const text = z.string({ error: `${name} must be a single string` });
  return (max ? text.max(max, { error: `${name} must be at most ${max} characters` }) : text).optional();
};

export const graphQuery = z.strictObject({
  type: singleString('type', 200).meta({ example: 'person', description: 'Only entities of exactly this type' }),
  q: singleString('q', 200).meta({ example: 'alice', description: 'Case-insensitive fragment of the entity name' }),
  cursor: singleString('cursor').meta({ description: 'nextCursor of the previous page' }),
  limit: z
    .string({ error: 'limit must be an integer' })
    .regex(/^\d+$/, { error: 'limit must be an integer' })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, { error: `limit must be from 1 to ${GRAPH_PAGE_MAX_LIMIT}` })
        .max(GRAPH_PAGE_MAX_LIMIT, { error: `limit must be from 1 to ${GRAPH_PAGE_MAX_LIMIT}` }),
    )
    .optional()
    .meta({ description: `Entities per page, from 1 to ${GRAPH_PAGE_MAX_LIMIT} (default ${GRAPH_PAGE_DEFAULT_LIMIT})` }),
});
export type GraphQuery = z.output<typeof graphQuery>;

const entityView = z.object({
  id: uuidSchema(),
  name: z.string(),
  type: z.string().meta({ example: 'person' }),
  description: z.string(),
  mentionCount: z.number().int().meta({ description: 'Records that mention the entity' }),
});

export const graphPageView = z.object({
  entities: z.array(entityView).meta({ description: 'Ordered by normalized name, then id' }),
  linkedEntities: z.array(entityView).meta({
    description:
      'The far ends of `relationships` that `entities` does not hold (on another page, or left out by the filters), ordered as `entities`: every relationship has both its ends in the answer',
  }),
  relationships: z
    .array(
      z.object({
        id: uuidSchema(),
        sourceId: uuidSchema(),
        targetId: uuidSchema(),
        description: z.string(),
        strength: z.number().int().min(1).max(10),
      }),
    )
    .meta({ description: 'Relationships with at least one end among these entities: all, or the 2,000 strongest' }),
  relationshipsTruncated: z.boolean().meta({ description: 'Whether more relationships touch these entities than the page holds' }),
  nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last page' }),
});

export const entityDetailView = entityView.extend({
  mentions: z
    .array(z.object({ recordId: uuidSchema(), externalId: z.string(), subject: z.string(), from: z.string(), sentAt: z.date() }))
    .meta({ description: 'The first 100 mentions, oldest record first' }),
});

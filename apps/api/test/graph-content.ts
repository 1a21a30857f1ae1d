import { createHash } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { PrismaService } from '#libs/database';

/** What a workspace's graph holds, without row ids: what two runs over the same records must agree on. */
export interface GraphContent {
  /** SHA-256 over the sorted lines below. */
  hash: string;
  entities: number;
  relationships: number;
  mentions: number;
}

/**
 * Entities by (normalized name, type, description), relationships by their endpoints' names and
 * types, strength and description, mentions by (entity, record external id), in one hash. Read
 * through the Prisma of any Nest context on the database (an ApiHarness, a MediumContext).
 */
export async function graphContent(nest: { app: INestApplicationContext }, workspaceId: string): Promise<GraphContent> {
  const prisma = nest.app.get(PrismaService);
  const endpoint = { select: { normalizedName: true, type: true } } as const;
  const [entities, relationships, mentions] = await Promise.all([
    prisma.entity.findMany({ where: { workspaceId }, select: { normalizedName: true, type: true, description: true } }),
    prisma.relationship.findMany({ where: { workspaceId }, select: { source: endpoint, target: endpoint, strength: true, description: true } }),
    prisma.entityMention.findMany({ where: { workspaceId }, select: { entity: endpoint, record: { select: { externalId: true } } } }),
  ]);
  const lines = [
    ...entities.map((e) => JSON.stringify(['entity', e.normalizedName, e.type, e.description])),
    ...relationships.map((r) =>
      JSON.stringify(['relationship', r.source.normalizedName, r.source.type, r.target.normalizedName, r.target.type, r.strength, r.description]),
    ),
    ...mentions.map((m) => JSON.stringify(['mention', m.entity.normalizedName, m.entity.type, m.record.externalId])),
  ].sort();
  return {
    hash: createHash('sha256').update(lines.join('\n')).digest('hex'),
    entities: entities.length,
    relationships: relationships.length,
    mentions: mentions.length,
  };
}

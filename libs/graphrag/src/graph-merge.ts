import type { ExtractionAnswer } from './extraction-schema.js';

export interface MergedEntity {
  key: string;
  name: string;
  normalizedName: string;
  type: string;
  description: string;
  recordIds: Set<string>;
}

export interface MergedRelationship {
  sourceKey: string;
  targetKey: string;
  description: string;
  strength: number;
}

export interface PageGraph {
  entities: Map<string, MergedEntity>;
  relationships: Map<string, MergedRelationship>;
}

/** Case, accents, punctuation and spacing do not make two entities different. */
export function normalizeName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}@.+-]+/gu, ' ')
    .trim()
    .replace(/\s+/g, ' ');
}

export function entityKey(normalizedName: string, type: string): string {
  return `${type}\u0000${normalizedName}`;
}

export function emptyPageGraph(): PageGraph {
  return { entities: new Map(), relationships: new Map() };
}

/**
 * Folds one chunk's answer into the page's graph: entities by normalized name and type (the longer
 * description wins, so the result does not depend on order), relationships by their endpoints (the
 * higher strength wins), mentions by record.
 */
export function mergeAnswer(graph: PageGraph, recordId: string, answer: ExtractionAnswer): void {
  const keyByName = new Map<string, string>();
  for (const entity of answer.entities) {
    const normalizedName = normalizeName(entity.name);
    if (!normalizedName) continue;
    const key = entityKey(normalizedName, entity.type);
    keyByName.set(normalizedName, key);
    const existing = graph.entities.get(key);
    if (existing) {
      existing.recordIds.add(recordId);
      if (prefer(entity.description, existing.description)) existing.description = entity.description;
    } else {
      graph.entities.set(key, {
        key,
        name: entity.name,
        normalizedName,
        type: entity.type,
        description: entity.description,
        recordIds: new Set([recordId]),
      });
    }
  }
  for (const relationship of answer.relationships) {
    const sourceKey = keyByName.get(normalizeName(relationship.source));
    const targetKey = keyByName.get(normalizeName(relationship.target));
    // an endpoint the model did not list as an entity, or a self-loop, carries no graph information
    if (!sourceKey || !targetKey || sourceKey === targetKey) continue;
    const key = `${sourceKey}\u0001${targetKey}`;
    const existing = graph.relationships.get(key);
    if (!existing) {
      graph.relationships.set(key, { sourceKey, targetKey, description: relationship.description, strength: relationship.strength });
    } else {
      existing.strength = Math.max(existing.strength, relationship.strength);
      if (prefer(relationship.description, existing.description)) existing.description = relationship.description;
    }
  }
}

/** Longer wins; equal length is settled alphabetically, so any merge order gives the same result. */
function prefer(candidate: string, current: string): boolean {
  return candidate.length > current.length || (candidate.length === current.length && candidate < current);
}

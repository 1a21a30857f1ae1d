import { Prisma, type Tx } from '#libs/database';

/** What a deletion counts, as its view names them. */
export const DELETED_KINDS = ['records', 'mentions', 'recordFailures', 'relationships', 'entities', 'backfills', 'tombstones', 'workspaces'] as const;
export type DeletedKind = (typeof DELETED_KINDS)[number];

/** Rows one batch deleted, per kind. */
export type DeletedCounts = Partial<Record<DeletedKind, number>>;

/** One kind of row a workspace deletion removes, batch by batch. */
interface PurgeStep {
  /** What the step drains; a batch that deleted fewer than the limit of it was the last. */
  kind: DeletedKind;
  /** Deletes at most `limit` of the table's rows of the workspace (and what hangs off them) in the caller's transaction. */
  batch(tx: Tx, workspaceId: string, limit: number): Promise<DeletedCounts>;
}

/** Deletes up to `limit` rows of a table keyed by workspace_id (an index on workspace_id first serves the inner select). */
function byWorkspace(kind: DeletedKind, table: string): PurgeStep {
  const name = Prisma.raw(`"${table}"`);
  return {
    kind,
    async batch(tx, workspaceId, limit) {
      const n = await tx.$executeRaw`
        DELETE FROM ${name} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${name} WHERE workspace_id = ${workspaceId}::uuid LIMIT ${limit}))`;
      return { [kind]: n };
    },
  };
}

/**
 * Every row keyed by a workspace, in an order that never leaves a dangling reference: records first
 * (with their mentions and backfill failures, found through the record indexes: neither table has
 * a workspace index of its own), then relationships, entities, backfills and tombstones. Each batch
 * is bounded and commits on its own; a step is done when a batch finds fewer rows than its limit.
 * Stateless: a resumed deletion starts again from the first step, and finished steps find nothing.
 *
 * Kept on purpose: `key_usage` (the tenant's audit of provider calls, keyed by tenant and job, never
 * content or keys), `ai_jobs` (a tenant's, not a workspace's), and `workspace_deletions` (the job
 * that proves the deletion happened).
 */
export const PURGE_STEPS: readonly PurgeStep[] = [
  {
    kind: 'records',
    async batch(tx, workspaceId, limit) {
      const ids = (
        await tx.$queryRaw<{ id: string }[]>`SELECT id FROM source_records WHERE workspace_id = ${workspaceId}::uuid ORDER BY seq LIMIT ${limit}`
      ).map((r) => r.id);
      if (ids.length === 0) return { records: 0 };
      const mentions = await tx.$executeRaw`DELETE FROM entity_mentions WHERE record_id = ANY(${ids}::uuid[])`;
      const recordFailures = await tx.$executeRaw`DELETE FROM backfill_record_failures WHERE record_id = ANY(${ids}::uuid[])`;
      const records = await tx.$executeRaw`DELETE FROM source_records WHERE id = ANY(${ids}::uuid[])`;
      return { records, mentions, recordFailures };
    },
  },
  byWorkspace('relationships', 'relationships'),
  byWorkspace('entities', 'entities'),
  byWorkspace('backfills', 'backfills'),
  byWorkspace('tombstones', 'record_tombstones'),
];

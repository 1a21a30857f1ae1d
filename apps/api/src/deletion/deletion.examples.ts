import { EXAMPLE } from '../http/example-values.js';
import type { WorkspaceDeletionView } from './deletion.dto.js';

/** Example answers of the deletion routes (documentation only; checked against their views at load). */
export const recordDeletionExample = { records: 1, mentions: 4, entities: 1, relationships: 2, recordFailures: 0 };

const noneDeleted = { records: 0, mentions: 0, recordFailures: 0, relationships: 0, entities: 0, backfills: 0, tombstones: 0, workspaces: 0 };

export const workspaceDeletionQueuedExample: WorkspaceDeletionView = {
  id: EXAMPLE.secondJobId,
  workspaceId: EXAMPLE.workspaceId,
  tenantId: EXAMPLE.tenantId,
  status: 'queued',
  deleted: noneDeleted,
  failure: null,
  createdAt: EXAMPLE.finishedAt,
  startedAt: null,
  finishedAt: null,
};

export const workspaceDeletionExample: WorkspaceDeletionView = {
  ...workspaceDeletionQueuedExample,
  status: 'succeeded',
  deleted: { records: 1200, mentions: 5120, recordFailures: 3, relationships: 1315, entities: 842, backfills: 2, tombstones: 1, workspaces: 1 },
  startedAt: new Date('2026-03-02T09:27:00.000Z'),
  finishedAt: new Date('2026-03-02T09:27:12.000Z'),
};

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import pg from 'pg';
import { PrismaService } from '#libs/database';
import { QueueName } from '#libs/queue';
import type { IngestResult } from '#libs/records';
import { emailRecords, FAULT_MARKERS, ProviderSimulator, simulatorEnv, WorkerProcess } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import type { WorkspaceDeletionView } from '../src/deletion/deletion.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted, type Json } from './api-harness.js';

const BATCH = 10;
const ENV = {
  SYNC_PAGE_SIZE: '10',
  JOB_LOCK_DURATION_MS: '1500',
  JOB_RECONCILE_INTERVAL_MS: '300',
  JOB_RECONCILE_GRACE_MS: '1000',
  WORKSPACE_DELETE_BATCH_SIZE: String(BATCH),
};

/** Every table keyed by a workspace, counted for one workspace (the workspace row included). */
const WORKSPACE_TABLES = [
  'source_records',
  'entity_mentions',
  'backfill_record_failures',
  'entities',
  'relationships',
  'backfills',
  'record_tombstones',
] as const;

/** A record whose people and organisation no other record names, and one that shares Alice Johnson with the rest. */
const only = {
  externalId: 'only-1@example.test',
  from: '',
  to: '',
  subject: 'note',
  body: 'Alice Johnson met Zara Quinlan at Solo Corp.',
  sentAt: '2026-01-02T10:00:00Z',
};
const shared = {
  externalId: 'shared-1@example.test',
  from: '',
  to: '',
  subject: 'note',
  body: 'Alice Johnson met Bob Smith at Acme Corp.',
  sentAt: '2026-01-02T11:00:00Z',
};

/**
 * Deleting a record (with what the graph derived only from it, and a tombstone that keeps it
 * deleted) and a whole workspace (202, a job that empties it in batches, resumable after a kill).
 * Runs the built worker (`npm run build`), as production does.
 */
describe('Deletion (e2e, real worker processes)', () => {
  const key = `sk-delete-${randomBytes(12).toString('hex')}-4242`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] } });
  const workers: WorkerProcess[] = [];
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start({ ...simulatorEnv(await simulator.start()), ...ENV });
    prisma = api.app.get(PrismaService);
    await startWorker();
  });
  afterEach(() => simulator.reset());
  afterAll(async () => {
    for (const worker of workers.splice(0)) await worker.kill('SIGKILL');
    await api?.close();
    await simulator.stop();
  });

  async function startWorker(): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start({ ...api.env, LOG_LEVEL: 'warn' });
    workers.push(worker);
    return worker;
  }

  async function workspace() {
    const tenant = await api.newTenant();
    const ws = await api.newWorkspace(tenant.id);
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    return { tenantId: tenant.id, workspaceId: ws.id };
  }

  const upload = (workspaceId: string, records: object[]) =>
    api.request<IngestResult>('POST', `/v1/workspaces/${workspaceId}/records`, { body: records });

  async function backfill(workspaceId: string, body: object = {}): Promise<Json<BackfillView>> {
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body });
    expect(started.status).toBe(202);
    return api.waitForBackfill(started.body.jobId, undefined, 60_000);
  }

  async function waitForDeletion(jobId: string, done = (v: Json<WorkspaceDeletionView>) => v.status === 'succeeded' || v.status === 'failed') {
    const deadline = Date.now() + 40_000;
    for (;;) {
      const { body } = await api.request<WorkspaceDeletionView>('GET', `/v1/workspace-deletions/${jobId}`);
      if (done(body)) return body;
      if (Date.now() > deadline) throw new Error(`deletion ${jobId} still ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function tableCounts(workspaceId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of [...WORKSPACE_TABLES, 'workspaces']) {
      const column = table === 'workspaces' ? 'id' : 'workspace_id';
      const rows = await prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${table}" WHERE "${column}" = $1::uuid`,
        workspaceId,
      );
      counts[table] = rows[0].n;
    }
    return counts;
  }

  /** A workspace with a backfilled graph, a failed record, and a tombstone: a row in every table keyed by it. */
  async function fullWorkspace(records = 24) {
    const ws = await workspace();
    const seeded = [...emailRecords(records - 2), only, { ...shared, externalId: 'refused@example.test', body: `Hello ${FAULT_MARKERS.refusal}` }];
    expect((await upload(ws.workspaceId, [...seeded, shared])).body).toMatchObject({ accepted: records + 1 });
    const view = await backfill(ws.workspaceId);
    expect(view).toMatchObject({ status: 'succeeded', counters: { recordsFailed: 1 } });
    expect((await api.request('DELETE', `/v1/workspaces/${ws.workspaceId}/records/${encodeURIComponent(shared.externalId)}`)).status).toBe(200);
    const counts = await tableCounts(ws.workspaceId);
    expect(WORKSPACE_TABLES.filter((table) => counts[table] === 0)).toEqual([]);
    return { ...ws, counts };
  }

  describe('one record', () => {
    it('removes the record, its mentions, and the entities and relationships only it supported; counts and graph version follow', async () => {
      const { workspaceId } = await workspace();
      await upload(workspaceId, [only, shared]);
      await backfill(workspaceId);
      const entityNames = async () =>
        (await prisma.entity.findMany({ where: { workspaceId }, orderBy: { normalizedName: 'asc' } })).map((e) => e.normalizedName);
      const record = await prisma.sourceRecord.findFirstOrThrow({ where: { workspaceId, externalId: only.externalId } });
      // what must go: the entities no other record mentions, and every relationship touching one of them
      const mentions = await prisma.entityMention.findMany({ where: { workspaceId }, select: { entityId: true, recordId: true } });
      const orphanIds = new Set(mentions.filter((m) => m.recordId === record.id).map((m) => m.entityId));
      for (const m of mentions) if (m.recordId !== record.id) orphanIds.delete(m.entityId);
      const orphanNames = (await prisma.entity.findMany({ where: { id: { in: [...orphanIds] } } })).map((e) => e.normalizedName).sort();
      expect(orphanNames).toEqual(['solo corp', 'zara quinlan']);
      const relationshipsBefore = await prisma.relationship.findMany({ where: { workspaceId } });
      const doomed = relationshipsBefore.filter((r) => orphanIds.has(r.sourceEntityId) || orphanIds.has(r.targetEntityId));
      expect(doomed.length).toBeGreaterThan(0);
      const alice = await prisma.entity.findFirstOrThrow({ where: { workspaceId, normalizedName: 'alice johnson' } });
      expect(alice.mentionCount).toBe(2);
      const versionBefore = (await prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).graphVersion;
      const namesBefore = await entityNames();

      const res = await api.request('DELETE', `/v1/workspaces/${workspaceId}/records/${encodeURIComponent(only.externalId)}`);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        records: 1,
        mentions: mentions.filter((m) => m.recordId === record.id).length,
        entities: 2,
        relationships: doomed.length,
        recordFailures: 0,
      });
      expect(await prisma.sourceRecord.count({ where: { workspaceId } })).toBe(1);
      expect(await prisma.entityMention.count({ where: { recordId: record.id } })).toBe(0);
      expect(await entityNames()).toEqual(namesBefore.filter((n) => !orphanNames.includes(n)));
      expect((await prisma.relationship.findMany({ where: { workspaceId } })).map((r) => r.id).sort()).toEqual(
        relationshipsBefore
          .filter((r) => !doomed.includes(r))
          .map((r) => r.id)
          .sort(),
      );
      // every remaining count equals its mentions, Alice's one less
      expect((await prisma.entity.findUniqueOrThrow({ where: { id: alice.id } })).mentionCount).toBe(1);
      for (const entity of await prisma.entity.findMany({ where: { workspaceId } })) {
        expect(entity.mentionCount).toBe(await prisma.entityMention.count({ where: { entityId: entity.id } }));
      }
      expect((await prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).graphVersion).toBeGreaterThan(versionBefore);
      const graph = await api.request<{ entities: { name: string }[] }>('GET', `/v1/workspaces/${workspaceId}/graph?limit=100`);
      expect(graph.body.entities.map((e) => e.name)).not.toContain('Zara Quinlan');
      // the tombstone keeps its identity only
      expect(await prisma.recordTombstone.findMany({ where: { workspaceId } })).toEqual([
        { workspaceId, source: 'api', externalId: only.externalId, deletedAt: expect.any(Date) as unknown as Date },
      ]);
    });

    it('answers 404 RECORD_NOT_FOUND for an unknown externalId or source, and 404 for another tenant', async () => {
      const { workspaceId } = await workspace();
      await upload(workspaceId, [shared]);
      const path = `/v1/workspaces/${workspaceId}/records/${encodeURIComponent(shared.externalId)}`;
      const unknown = await api.request<ApiErrorBody>('DELETE', `/v1/workspaces/${workspaceId}/records/nope`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('RECORD_NOT_FOUND');
      expect((await api.request<ApiErrorBody>('DELETE', `${path}?source=mbox`)).body.error.code).toBe('RECORD_NOT_FOUND');
      expect((await api.request<ApiErrorBody>('DELETE', `${path}?source=nope`)).status).toBe(400);
      // ids no record can have are refused before any query: NUL, an encoded lone surrogate, too long
      for (const id of ['%00', 'a%ED%A0%80b', 'x'.repeat(513)]) {
        const bad = await api.request<ApiErrorBody>('DELETE', `/v1/workspaces/${workspaceId}/records/${id}`);
        expect([id.slice(0, 12), bad.status]).toEqual([id.slice(0, 12), 400]);
      }
      const stranger = await api.newTenantToken((await api.newTenant()).id);
      expect((await api.request<ApiErrorBody>('DELETE', path, { token: stranger })).body.error.code).toBe('WORKSPACE_NOT_FOUND');
      expect(await prisma.sourceRecord.count({ where: { workspaceId } })).toBe(1);
    });

    it('stays deleted: a re-upload answers deleted and a new backfill from the start does not bring it back, until the tombstone is lifted', async () => {
      const { workspaceId } = await workspace();
      await upload(workspaceId, [only, shared]);
      await backfill(workspaceId);
      expect((await api.request('DELETE', `/v1/workspaces/${workspaceId}/records/${encodeURIComponent(only.externalId)}?source=api`)).status).toBe(
        200,
      );

      const again = await upload(workspaceId, [only, shared]);
      expect(again.body).toEqual({ accepted: 0, duplicates: 1, deleted: 1, rejected: [] });
      const rerun = await backfill(workspaceId, { fromStart: true });
      expect(rerun).toMatchObject({ status: 'succeeded', source: 'all', counters: { recordsProcessed: 1 } });
      expect(await prisma.entity.count({ where: { workspaceId, normalizedName: { in: ['zara quinlan', 'solo corp'] } } })).toBe(0);

      const lifted = await api.request('DELETE', `/v1/workspaces/${workspaceId}/tombstones/${encodeURIComponent(only.externalId)}`);
      expect(lifted.status).toBe(204);
      expect(
        (await api.request<ApiErrorBody>('DELETE', `/v1/workspaces/${workspaceId}/tombstones/${encodeURIComponent(only.externalId)}`)).body.error
          .code,
      ).toBe('TOMBSTONE_NOT_FOUND');
      expect((await upload(workspaceId, [only])).body).toEqual({ accepted: 1, duplicates: 0, deleted: 0, rejected: [] });
    });
  });

  describe('a workspace', () => {
    it('answers 202 with a job that empties every table of the workspace in batches and leaves other workspaces untouched', async () => {
      const doomed = await fullWorkspace();
      const kept = await fullWorkspace();
      const token = await api.newTenantToken(doomed.tenantId);
      const usageBefore = await prisma.keyUsage.count({ where: { tenantId: doomed.tenantId } });
      expect(usageBefore).toBeGreaterThan(0);

      const stranger = await api.newTenantToken(kept.tenantId);
      expect((await api.request<ApiErrorBody>('DELETE', `/v1/workspaces/${doomed.workspaceId}`, { token: stranger })).status).toBe(404);
      const res = await api.request<WorkspaceDeletionView>('DELETE', `/v1/workspaces/${doomed.workspaceId}`, { token });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ workspaceId: doomed.workspaceId, tenantId: doomed.tenantId });
      // gone for every reader and writer at once, whatever the job has done yet
      expect((await api.request<ApiErrorBody>('GET', `/v1/workspaces/${doomed.workspaceId}/graph`, { token })).body.error.code).toBe(
        'WORKSPACE_NOT_FOUND',
      );
      expect((await upload(doomed.workspaceId, [shared])).status).toBe(404);
      expect((await api.request<ApiErrorBody>('POST', `/v1/workspaces/${doomed.workspaceId}/backfills`, { body: {} })).status).toBe(404);
      const listed = await api.request<{ items: { id: string }[] }>('GET', `/v1/tenants/${doomed.tenantId}/workspaces`);
      expect(listed.body.items.map((w) => w.id)).not.toContain(doomed.workspaceId);

      const done = await waitForDeletion(res.body.id);
      expect(done.status).toBe('succeeded');
      expect(done.failure).toBeNull();
      expect(done.deleted).toEqual({
        records: doomed.counts.source_records,
        mentions: doomed.counts.entity_mentions,
        recordFailures: doomed.counts.backfill_record_failures,
        relationships: doomed.counts.relationships,
        entities: doomed.counts.entities,
        backfills: doomed.counts.backfills,
        tombstones: doomed.counts.record_tombstones,
        workspaces: 1,
      });
      // the tenant can watch its own deletion, another tenant cannot see it
      expect((await api.request('GET', `/v1/workspace-deletions/${res.body.id}`, { token })).status).toBe(200);
      expect((await api.request<ApiErrorBody>('GET', `/v1/workspace-deletions/${res.body.id}`, { token: stranger })).body.error.code).toBe(
        'WORKSPACE_DELETION_NOT_FOUND',
      );
      expect(Object.values(await tableCounts(doomed.workspaceId)).every((n) => n === 0)).toBe(true);
      expect(await tableCounts(kept.workspaceId)).toEqual({ ...kept.counts, workspaces: 1 });
      // the tenant's audit of provider calls is kept (no content, no key)
      expect(await prisma.keyUsage.count({ where: { tenantId: doomed.tenantId } })).toBe(usageBefore);
      expect((await api.request<ApiErrorBody>('DELETE', `/v1/workspaces/${doomed.workspaceId}`, { token })).body.error.code).toBe(
        'WORKSPACE_NOT_FOUND',
      );
    });

    it('answers two DELETEs at once with the same job', async () => {
      const { workspaceId } = await workspace();
      await upload(workspaceId, emailRecords(5));
      // no worker meanwhile, so the first job cannot finish (and the workspace row go) before the second request reads it
      for (const worker of workers.splice(0)) await worker.kill('SIGKILL');
      const both = await Promise.all([0, 1].map(() => api.request<WorkspaceDeletionView>('DELETE', `/v1/workspaces/${workspaceId}`)));
      expect(both.map((r) => r.status)).toEqual([202, 202]);
      expect(both[1].body.id).toBe(both[0].body.id);
      await startWorker();
      expect(await waitForDeletion(both[0].body.id)).toMatchObject({ status: 'succeeded', deleted: { records: 5, workspaces: 1 } });
      expect(await prisma.workspaceDeletion.count({ where: { workspaceId } })).toBe(1);
    });

    it('is refused with 409 while a backfill runs (records too); with cancelActive it cancels the backfill and deletes', async () => {
      const { workspaceId } = await workspace();
      await upload(
        workspaceId,
        emailRecords(30).map((r, i) => ({ ...r, subject: `${r.subject} [[held ${i}]]` })),
      );
      const gate = simulator.gate({ marker: '[[held 15]]' });
      const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} });
      await gate.waitForHeld(1);
      await api.waitForBackfill(started.body.jobId, (v) => v.status === 'running');

      const record = await api.request<ApiErrorBody>('DELETE', `/v1/workspaces/${workspaceId}/records/msg-0%40example.test`);
      expect(record.status).toBe(409);
      expect(record.body.error.code).toBe('DELETION_BLOCKED_BY_ACTIVE_JOB');
      const refused = await api.request<ApiErrorBody>('DELETE', `/v1/workspaces/${workspaceId}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'DELETION_BLOCKED_BY_ACTIVE_JOB',
        message: expect.stringContaining(started.body.jobId) as unknown as string,
      });
      expect((await api.request('GET', `/v1/workspaces/${workspaceId}/graph`)).status).toBe(200);
      expect(await prisma.sourceRecord.count({ where: { workspaceId } })).toBe(30);

      const res = await api.request<WorkspaceDeletionView>('DELETE', `/v1/workspaces/${workspaceId}?cancelActive=true`);
      expect(res.status).toBe(202);
      expect((await api.request('GET', `/v1/workspaces/${workspaceId}/graph`)).status).toBe(404);
      gate.open();
      const done = await waitForDeletion(res.body.id);
      expect(done).toMatchObject({ status: 'succeeded', deleted: { records: 30, backfills: 1, workspaces: 1 } });
      expect(Object.values(await tableCounts(workspaceId)).every((n) => n === 0)).toBe(true);
    });

    it('finishes after its worker is killed mid-way: the next worker resumes it, and counts stay exact', async () => {
      const records = 5 * BATCH;
      const { workspaceId } = await workspace();
      await upload(workspaceId, emailRecords(records));
      await backfill(workspaceId);
      const before = await tableCounts(workspaceId);
      // a row of the fourth batch is locked by the test: the worker commits three batches, then waits on it
      const blocker = new pg.Client({ connectionString: api.database.url });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        // by id: a locking clause under OFFSET would lock every row it skips as well
        const [target] = await prisma.sourceRecord.findMany({ where: { workspaceId }, orderBy: { seq: 'asc' }, skip: 3 * BATCH + 2, take: 1 });
        await blocker.query('SELECT id FROM source_records WHERE id = $1 FOR UPDATE', [target.id]);
        const res = await api.request<WorkspaceDeletionView>('DELETE', `/v1/workspaces/${workspaceId}`);
        expect(res.status).toBe(202);
        await waitForDeletion(res.body.id, (v) => v.deleted.records === 3 * BATCH);
        await waitFor(async () => {
          const { rows } = await blocker.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          return rows[0].n > 0;
        });
        // asked again while it runs: the same job
        expect((await api.request<WorkspaceDeletionView>('DELETE', `/v1/workspaces/${workspaceId}`)).body.id).toBe(res.body.id);

        for (const worker of workers.splice(0)) await worker.kill('SIGKILL');
        await blocker.query('ROLLBACK');
        await startWorker();

        const done = await waitForDeletion(res.body.id);
        expect(done).toMatchObject({
          status: 'succeeded',
          deleted: {
            records,
            mentions: before.entity_mentions,
            entities: before.entities,
            relationships: before.relationships,
            backfills: 1,
            workspaces: 1,
          },
        });
        expect(Object.values(await tableCounts(workspaceId)).every((n) => n === 0)).toBe(true);
      } finally {
        await blocker.end();
      }
    }, 60_000);

    it('is queued again by the reconciler when the queue lost it, and finishes', async () => {
      for (const worker of workers.splice(0)) await worker.kill('SIGKILL');
      const { workspaceId } = await workspace();
      await upload(workspaceId, emailRecords(15));
      const res = await api.request<WorkspaceDeletionView>('DELETE', `/v1/workspaces/${workspaceId}`);
      expect(res.status).toBe(202);
      // Redis loses the entry before any worker took it
      const queue = api.app.get<Queue>(getQueueToken(QueueName.Deletions));
      await (await queue.getJob(res.body.id))!.remove();
      expect(await queue.getJob(res.body.id)).toBeUndefined();

      await startWorker();

      const done = await waitForDeletion(res.body.id);
      expect(done).toMatchObject({ status: 'succeeded', failure: null, deleted: { records: 15, workspaces: 1 } });
      expect((await prisma.workspaceDeletion.findUniqueOrThrow({ where: { id: res.body.id } })).requeues).toBe(1);
      expect(Object.values(await tableCounts(workspaceId)).every((n) => n === 0)).toBe(true);
    }, 60_000);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

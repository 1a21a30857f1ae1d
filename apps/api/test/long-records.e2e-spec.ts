import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { chunksOf, recordText } from '#libs/graphrag';
import { incomingRecordSchema } from '#libs/records';
import { productionWorkerFlags, ProviderSimulator, simulatorEnv, WorkerProcess } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { ApiHarness, type Json, type JobStarted } from './api-harness.js';

const RECORDS = 400;
/** The longest body a record may have: 200,000 characters, here CJK, so about 560 KB of UTF-8 each. */
const BODY_CHARS = 200_000;

/** Japanese prose with a Latin sentence naming a person and a company in every 4,000-character chunk. */
const SEGMENT = `${'東京の会議で田中さんと山本さんが新しい計画について話し合い、来週までに報告書をまとめることに決めました。'.repeat(3)} Alice met Acme Corp. `;

const BODY = SEGMENT.repeat(Math.ceil(BODY_CHARS / SEGMENT.length)).slice(0, BODY_CHARS);

/** Record `index` as a client would send it; the same text {@link insertLongRecords} generates. */
function longRecord(index: number) {
  return {
    externalId: `long-${index}`,
    from: `sender${index % 7}@example.test`,
    to: 'team@example.test',
    subject: `Long update ${index}`,
    body: BODY,
    sentAt: '2026-01-01T00:00:00Z',
  };
}

/**
 * One tenant's 400 records of 200,000 CJK characters (within the record limit) backfilled by a
 * real worker process under the production heap flags: it used to run out of heap on the first
 * page, on every restart. It must now finish with exact counters and one provider call per chunk,
 * in the same process (no OOM, no restart).
 */
describe('Backfill of long records (e2e, a real worker process under production heap flags)', () => {
  const key = `sk-long-${randomBytes(12).toString('hex')}-7777`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] } });
  let api: ApiHarness;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    api = await ApiHarness.start({ ...simulatorEnv(await simulator.start()), SYNC_CONCURRENCY: '16' });
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await simulator.stop();
  });

  /**
   * The records of {@link longRecord}, generated inside Postgres (400 x 560 KB through JSON ingest
   * would take longer than the backfill); one body is read back to prove it is the same text.
   */
  async function insertLongRecords(workspaceId: string): Promise<void> {
    const prisma = api.app.get(PrismaService);
    await prisma.$executeRaw`
      INSERT INTO source_records (id, workspace_id, source, external_id, from_addr, to_addr, subject, body, sent_at)
      SELECT gen_random_uuid(), ${workspaceId}::uuid, 'api', 'long-' || i, 'sender' || (i % 7) || '@example.test', 'team@example.test',
             'Long update ' || i, left(repeat(${SEGMENT}, ${Math.ceil(BODY_CHARS / SEGMENT.length)}), ${BODY_CHARS}), timestamp '2026-01-01'
      FROM generate_series(0, ${RECORDS - 1}) AS i`;
    const stored = await prisma.sourceRecord.findFirstOrThrow({ where: { workspaceId, externalId: 'long-123' } });
    const expected = longRecord(123);
    expect({ from: stored.fromAddr, to: stored.toAddr, subject: stored.subject, body: stored.body === expected.body }).toEqual({
      from: expected.from,
      to: expected.to,
      subject: expected.subject,
      body: true,
    });
  }

  /** Polls the job until it ends or the worker process does (a dead worker leaves it `running`). */
  async function settle(jobId: string): Promise<Json<BackfillView>> {
    for (;;) {
      const { body } = await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`);
      if (['succeeded', 'failed', 'cancelled'].includes(body.status) || !worker!.running) return body;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('backfills 400 records of 200,000 CJK characters without running out of memory', async () => {
    expect(productionWorkerFlags()).toEqual(expect.arrayContaining([expect.stringMatching(/^--max-old-space-size=/)]));
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    // every record is one the API accepts: the longest body allowed
    expect(incomingRecordSchema.safeParse(longRecord(0)).success).toBe(true);
    await insertLongRecords(workspace.id);
    let expectedCalls = 0;
    for (let index = 0; index < RECORDS; index++) {
      const r = longRecord(index);
      expectedCalls += [...chunksOf(recordText({ id: '', fromAddr: r.from, toAddr: r.to, subject: r.subject, body: r.body }))].length;
    }
    expect(expectedCalls).toBeGreaterThanOrEqual(RECORDS * (BODY_CHARS / 4_000));

    worker = await WorkerProcess.start({ ...api.env, LOG_LEVEL: 'warn' }, { nodeFlags: productionWorkerFlags() });
    const pid = worker.child.pid;
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    expect(started.status).toBe(202);
    const job = await settle(started.body.jobId);

    // the old worker died here: "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
    expect(worker.stderr.join('\n')).not.toMatch(/heap out of memory|FATAL ERROR/);
    expect({ running: worker.running, pid: worker.child.pid }).toEqual({ running: true, pid });
    expect(job).toMatchObject({
      status: 'succeeded',
      counters: { recordsFetched: RECORDS, recordsProcessed: RECORDS, recordsFailed: 0 },
    });
    expect(job.counters.entities).toBeGreaterThanOrEqual(2);
    // one provider call per chunk, no record sent twice, and key_usage counts exactly those
    expect(simulator.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(expectedCalls);
    const usage = await api.app.get(PrismaService).keyUsage.aggregate({ where: { jobId: started.body.jobId }, _sum: { calls: true } });
    expect(usage._sum.calls).toBe(expectedCalls);
  }, 240_000);
});

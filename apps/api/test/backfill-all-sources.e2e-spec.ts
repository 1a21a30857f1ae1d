import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { BackfillStatus, PrismaService } from '#libs/database';
import { ProviderSimulator, simulatorEnv } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { type ApiErrorBody, ApiHarness, type JobStarted, type Json } from './api-harness.js';

/** One message, whose people and organisation no API record names. */
const MBOX = [
  'From mallory@example.test Mon Jan  6 09:00:00 2025',
  'Message-ID: <m1@example.test>',
  'Date: Mon, 06 Jan 2025 09:00:00 +0000',
  'From: mallory@example.test',
  'To: trent@example.test',
  'Subject: note',
  '',
  'Mallory Keane met Trent Oduya at Vector Labs.',
  '',
].join('\n');

const API_RECORDS = [
  { externalId: 'a-1', subject: 'note', body: 'Alice Johnson met Bob Smith at Acme Corp.', sentAt: '2025-01-07T09:00:00Z' },
  { externalId: 'a-2', subject: 'note', body: 'Carol Diaz wrote to Dan Okafor at Globex Inc.', sentAt: '2025-01-08T09:00:00Z' },
];

/**
 * A backfill reads every source of the workspace unless the request names one (`source`: "all", the
 * default, "api" or "mbox"); a failed or cancelled backfill is resumed only by one of the same scope.
 */
describe('Backfills of all sources (e2e)', () => {
  const key = `sk-sources-${randomBytes(12).toString('hex')}-4242`;
  const simulator = new ProviderSimulator({ validKeys: { openai: [key] } });
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start({ ...simulatorEnv(await simulator.start()), SYNC_PAGE_SIZE: '1' }, { worker: true });
    prisma = api.app.get(PrismaService);
  });
  afterEach(() => simulator.reset());
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
  });

  /** A workspace with two API records and one mbox message, the mbox one stored between them (seq order). */
  async function workspace() {
    const tenant = await api.newTenant();
    const { id: workspaceId } = await api.newWorkspace(tenant.id);
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    expect((await api.request('POST', `/v1/workspaces/${workspaceId}/records`, { body: [API_RECORDS[0]] })).body).toMatchObject({ accepted: 1 });
    const imported = await api.request('POST', `/v1/workspaces/${workspaceId}/imports/mbox`, {
      raw: { data: MBOX, contentType: 'application/mbox' },
    });
    expect(imported.body).toMatchObject({ accepted: 1 });
    expect((await api.request('POST', `/v1/workspaces/${workspaceId}/records`, { body: [API_RECORDS[1]] })).body).toMatchObject({ accepted: 1 });
    return workspaceId;
  }

  async function run(workspaceId: string, body?: object): Promise<Json<BackfillView> & { resumedFrom: string | null }> {
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, body === undefined ? {} : { body });
    expect(started.status).toBe(202);
    return api.waitForBackfill(started.body.jobId, undefined, 30_000);
  }

  const entityNames = async (workspaceId: string) =>
    (await prisma.entity.findMany({ where: { workspaceId }, select: { normalizedName: true } })).map((e) => e.normalizedName).sort();

  it('reads API and mbox records alike when no source is named, and says "all" in its view and list', async () => {
    const workspaceId = await workspace();
    const view = await run(workspaceId);
    expect(view).toMatchObject({ status: 'succeeded', source: 'all', counters: { recordsProcessed: 3, recordsFailed: 0 } });
    const names = await entityNames(workspaceId);
    expect(names).toEqual(expect.arrayContaining(['acme corp', 'globex inc', 'vector labs', 'mallory keane', 'trent oduya']));
    // every record, whatever its source, is mentioned in the graph
    const records = await prisma.sourceRecord.findMany({ where: { workspaceId }, select: { id: true, source: true } });
    expect(records.map((r) => r.source).sort()).toEqual(['api', 'api', 'mbox']);
    for (const record of records) expect(await prisma.entityMention.count({ where: { recordId: record.id } })).toBeGreaterThan(0);
    const list = await api.request<{ items: Json<BackfillView>[] }>('GET', `/v1/workspaces/${workspaceId}/backfills`);
    expect(list.body.items.map((b) => b.source)).toEqual(['all']);
    // "all" named explicitly is the same scope
    expect(await run(workspaceId, { source: 'all', fromStart: true })).toMatchObject({ source: 'all', counters: { recordsProcessed: 3 } });
  });

  it('reads only the named source', async () => {
    const mboxOnly = await workspace();
    expect(await run(mboxOnly, { source: 'mbox' })).toMatchObject({ status: 'succeeded', source: 'mbox', counters: { recordsProcessed: 1 } });
    expect(await entityNames(mboxOnly)).toEqual(expect.arrayContaining(['vector labs']));
    expect(await entityNames(mboxOnly)).not.toContain('acme corp');

    const apiOnly = await workspace();
    expect(await run(apiOnly, { source: 'api' })).toMatchObject({ status: 'succeeded', source: 'api', counters: { recordsProcessed: 2 } });
    expect(await entityNames(apiOnly)).not.toContain('vector labs');

    const refused = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${apiOnly}/backfills`, { body: { source: 'pop3' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('source must be one of all, api, mbox, imap');
  });

  it('resumes a failed backfill of the same scope from its checkpoint, and only of the same scope', async () => {
    const workspaceId = await workspace();
    const tenantId = (await prisma.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).tenantId;
    const [first] = await prisma.sourceRecord.findMany({ where: { workspaceId }, orderBy: { seq: 'asc' }, take: 1 });
    // a backfill of every source that failed after its first page (the first record, an API one)
    const failed = await prisma.backfill.create({
      data: { workspaceId, tenantId, source: 'all', status: BackfillStatus.failed, cursor: first.seq.toString(), finishedAt: new Date() },
    });

    // another scope does not resume it
    const mbox = await run(workspaceId, { source: 'mbox' });
    expect(mbox).toMatchObject({ source: 'mbox', resumedFrom: null, counters: { recordsProcessed: 1 } });

    const resumed = await run(workspaceId);
    expect(resumed).toMatchObject({ status: 'succeeded', source: 'all', resumedFrom: failed.id, counters: { recordsProcessed: 2 } });
  });
});

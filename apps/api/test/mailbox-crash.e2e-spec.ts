import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrismaService } from '#libs/database';
import { PrivateDovecot, ProviderSimulator, rfc822Messages, simulatorEnv, WorkerProcess } from '#libs/testing';
import type { BackfillView } from '../src/backfills/backfill.dto.js';
import { ApiHarness, type JobStarted } from './api-harness.js';

const PAGE = 3;
const PAGES = 5;
/** The page the first worker is killed on: pages before it are committed, its provider calls are held. */
const KILLED_ON_PAGE = 3;
/** In the bodies of the killed page and those after it; lower case and brackets, so no entity is read from it. */
const HOLD = '[[hold after page 2]]';
/** In each message's body, so the provider's calls can be tallied per message (UID n is message n). */
const messageMarker = (uid: number) => `[[message ${uid}]]`;
const USER = 'crash';

/**
 * SIGKILL of a real worker process (dist/apps/worker) in the middle of a mailbox folder: a fresh
 * worker takes the stalled job over and resumes after the last committed UID, so every message is
 * stored once and only the killed page reaches the provider twice. Run `npm run build` first.
 */
describe('Mailbox backfill crash safety (e2e, private Dovecot, real worker processes)', () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  const workers: WorkerProcess[] = [];
  // provider calls that carried each message (by UID), counted as they arrive
  const callsPerMessage = new Map<number, number>();
  let dovecot: PrivateDovecot;
  let api: ApiHarness;

  beforeAll(async () => {
    dovecot = await PrivateDovecot.start({ users: [{ name: USER, password }] });
    api = await ApiHarness.start({
      ...simulatorEnv(await simulator.start()),
      SYNC_PAGE_SIZE: String(PAGE),
      // every call of a page in flight at once: the gate holds the whole killed page, nothing after it
      SYNC_CONCURRENCY: String(PAGE),
      JOB_LOCK_DURATION_MS: '1500',
      EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
      IMAP_ALLOW_PLAINTEXT: 'true',
      IMAP_TIMEOUT_MS: '5000',
    });
    simulator.onRequest(({ bodyText }) => {
      for (const [, uid] of bodyText.matchAll(/\[\[message (\d+)\]\]/g))
        callsPerMessage.set(Number(uid), (callsPerMessage.get(Number(uid)) ?? 0) + 1);
    });
  }, 60_000);
  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await api?.close();
    await simulator.stop();
    await dovecot?.destroy();
  });

  async function startWorker(): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start({ ...api.env, LOG_LEVEL: 'warn' });
    workers.push(worker);
    return worker;
  }

  /** The session rawlogs (`.in`: what the client sent after login) of the mailbox user, by file name. */
  const sessionFiles = () => readdirSync(join(dovecot.dir, 'rawlog', USER)).filter((name) => name.endsWith('.in'));
  /** The first UID of each UID SEARCH a session sent (`UID SEARCH UID <n>:*`). */
  const searchedFrom = (file: string) =>
    [...readFileSync(join(dovecot.dir, 'rawlog', USER, file), 'latin1').matchAll(/ UID SEARCH .*?\bUID (\d+):(?:\d+|\*)/gi)].map(([, from]) =>
      Number(from),
    );

  it('resumes after the last committed UID: each message stored once, only the killed page sent to the provider again', async () => {
    const tenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, {
      body: { value: `sk-mailbox-crash-${randomBytes(12).toString('hex')}` },
    });
    const workspace = await api.newWorkspace(tenant.id);
    const put = await api.request('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
      body: { host: '127.0.0.1', port: dovecot.port, tlsMode: 'none', username: USER, secret: password },
    });
    expect(put.status).toBe(200);
    const messages = rfc822Messages(PAGE * PAGES, 500).map((message, i) => {
      const held = i >= (KILLED_ON_PAGE - 1) * PAGE ? `${HOLD} ` : '';
      return message.replace(/\r\n\r\n/, `\r\n\r\n${held}${messageMarker(i + 1)} `);
    });
    // a fresh user's folder: UIDs 1..n in the order delivered
    for (const message of messages) dovecot.deliver(USER, 'INBOX', message);

    const first = await startWorker();
    const gate = simulator.gate({ marker: HOLD });
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: { source: 'imap' } });
    expect(started.status).toBe(202);
    const { jobId } = started.body;
    const committed = (KILLED_ON_PAGE - 1) * PAGE;
    await gate.waitForHeld(PAGE);
    await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === committed, 60_000);
    await first.kill('SIGKILL');
    const sessionsOfFirstRun = new Set(sessionFiles());

    const orphaned = (await api.request<BackfillView>('GET', `/v1/backfills/${jobId}`)).body;
    expect(orphaned.status).toBe('running');
    expect(orphaned.counters.recordsProcessed).toBe(committed);

    // the held calls belonged to the dead worker; the next worker's go through
    gate.open();
    await startWorker();
    const resumed = await api.waitForBackfill(jobId, undefined, 90_000);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.counters.recordsProcessed).toBe(PAGE * PAGES);

    // every message is one row, whatever the crash fetched twice
    const rows = await api.app
      .get(PrismaService)
      .sourceRecord.findMany({ where: { workspaceId: workspace.id }, select: { source: true, externalId: true } });
    expect(rows).toHaveLength(PAGE * PAGES);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['imap']));
    expect(new Set(rows.map((r) => r.externalId)).size).toBe(PAGE * PAGES);

    // committed messages reached the provider once; the killed page's twice (held for the dead worker, then again); the rest once
    const expected = new Map(messages.map((_, i) => [i + 1, i + 1 > committed && i + 1 <= committed + PAGE ? 2 : 1]));
    expect(new Map([...callsPerMessage].sort(([a], [b]) => a - b))).toEqual(expected);

    // the fresh worker's session searched from the UID after the last committed one, never from the start
    const secondRun = sessionFiles().filter((name) => !sessionsOfFirstRun.has(name));
    expect(secondRun.length).toBeGreaterThan(0);
    const firstSearches = secondRun.map((file) => searchedFrom(file)[0]).filter((from) => from !== undefined);
    expect(firstSearches).toContain(committed + 1);
    expect(Math.min(...firstSearches)).toBe(committed + 1);
    // and the first run had searched from the start
    expect([...sessionsOfFirstRun].flatMap(searchedFrom)).toContain(1);
  }, 150_000);
});

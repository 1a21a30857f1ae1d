import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrismaService } from '#libs/database';
import { fingerprintForSimulator, PrivateDovecot, ProviderSimulator, rfc822Messages, simulatorEnv } from '#libs/testing';
import { type ApiErrorBody, ApiHarness, type JobStarted } from './api-harness.js';

const PAGE = 3;
/** In the body of messages whose provider calls a test holds: lower case and brackets, so no entity is read from it. */
const HOLD = '[[hold mailbox page]]';

/** The odd mail of the mbox tests (HTML only, multipart, quoted From lines), one message each. */
function sampleMboxMessages(): string[] {
  const mbox = readFileSync(join(import.meta.dirname, 'fixtures', 'sample.mbox'), 'utf8');
  return mbox
    .split(/^From .*\n/m)
    .filter((part) => part.trim() !== '')
    .map((part) => part.replace(/^>(>*From )/gm, '$1').replace(/\n/g, '\r\n'));
}

/**
 * Backfills from a workspace's mailbox against a real IMAP server (a private Dovecot): the key
 * pre-flight comes first and the IMAP login before any message is fetched; messages are fetched by
 * UID pages, stored once and extracted; a refused login, a missing key, a changed UIDVALIDITY and a
 * server that goes away mid-run each end as they must.
 */
describe('Mailbox backfills (e2e, private Dovecot, in-process worker, provider simulator)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  let dovecot: PrivateDovecot;
  let api: ApiHarness;
  let prisma: PrismaService;
  let users = 0;
  const passwords = new Map<string, string>();

  beforeAll(async () => {
    for (let i = 0; i < 8; i++) passwords.set(`user${i}`, `pw-${i}-${randomBytes(6).toString('hex')}`);
    dovecot = await PrivateDovecot.start({ users: [...passwords].map(([name, password]) => ({ name, password })) });
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        SYNC_PAGE_SIZE: String(PAGE),
        SYNC_CONCURRENCY: '2',
        EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
        IMAP_ALLOW_PLAINTEXT: 'true',
        IMAP_MAX_ATTEMPTS: '2',
        IMAP_RETRY_BASE_MS: '50',
        IMAP_TIMEOUT_MS: '5000',
      },
      { worker: true },
    );
    prisma = api.app.get(PrismaService);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
    await dovecot?.destroy();
  });

  /** A fresh mailbox user, its password, and a tenant with a key and a workspace whose mailbox is that user's. */
  async function mailboxWorkspace(options: { key?: boolean; password?: string; folders?: string[] } = {}) {
    const user = `user${users++}`;
    const password = passwords.get(user)!;
    const tenant = await api.newTenant();
    const key = `sk-mailbox-${randomBytes(12).toString('hex')}-mbox`;
    if (options.key !== false) await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: key } });
    const workspace = await api.newWorkspace(tenant.id);
    const put = await api.request('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
      body: {
        host: '127.0.0.1',
        port: dovecot.port,
        tlsMode: 'none',
        username: user,
        secret: options.password ?? password,
        folders: options.folders ?? ['INBOX'],
      },
    });
    expect(put.status).toBe(200);
    return { user, tenant, workspace, key };
  }
  const startBackfill = async (workspaceId: string) => {
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: { source: 'imap' } });
    expect(started.status).toBe(202);
    return started.body.jobId;
  };
  const imapRecords = (workspaceId: string) => prisma.sourceRecord.count({ where: { workspaceId, source: 'imap' } });

  it('backfills every folder end to end, the odd mail included, and stores each message once', async () => {
    const { user, workspace, key } = await mailboxWorkspace({ folders: ['INBOX', 'Archive'] });
    const odd = sampleMboxMessages();
    for (const message of [...rfc822Messages(7), ...odd]) dovecot.deliver(user, 'INBOX', message);
    for (const message of rfc822Messages(4, 100)) dovecot.deliver(user, 'Archive', message);
    // a message in two folders is one record
    dovecot.deliver(user, 'Archive', rfc822Messages(1)[0]);

    const tested = await api.request<{ folders: { name: string; messages: number }[] }>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
    expect(tested.status).toBe(200);
    expect(tested.body.folders).toEqual([
      expect.objectContaining({ name: 'INBOX', messages: 7 + odd.length }),
      expect.objectContaining({ name: 'Archive', messages: 5 }),
    ]);

    const done = await api.waitForBackfill(await startBackfill(workspace.id), undefined, 60_000);
    expect(done).toMatchObject({ status: 'succeeded', counters: expect.objectContaining({ recordsProcessed: 7 + odd.length + 4 }) as unknown });
    expect(await imapRecords(workspace.id)).toBe(7 + odd.length + 4);
    expect(simulator.keysSeen('openai')).toContain(fingerprintForSimulator(key));
    const commands = await dovecot.commandsSeen(user);
    expect(commands).toEqual(expect.arrayContaining(['AUTHENTICATE', 'UID SEARCH', 'UID FETCH']));
    const graph = await api.request<{ entities: { name: string }[] }>('GET', `/v1/workspaces/${workspace.id}/graph?q=acme`);
    expect(graph.body.entities.map((e) => e.name)).toContain('Acme Corp');

    const mailbox = await api.request<{ status: string; secretLast4: string }>('GET', `/v1/workspaces/${workspace.id}/imap-source`);
    expect(mailbox.body.status).toBe('valid');
    expect(JSON.stringify(mailbox.body)).not.toContain(passwords.get(user)!);
  });

  it('refuses a wrong password with IMAP_AUTH_FAILED, marks the mailbox invalid, and fetches nothing', async () => {
    const { user, workspace } = await mailboxWorkspace({ password: 'not-the-password' });
    for (const message of rfc822Messages(3)) dovecot.deliver(user, 'INBOX', message);

    const tested = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
    expect(tested.status).toBe(422);
    expect(tested.body.error.code).toBe('IMAP_AUTH_FAILED');
    expect(tested.body.error.message).not.toContain('not-the-password');

    const done = await api.waitForBackfill(await startBackfill(workspace.id), undefined, 30_000);
    expect(done.status).toBe('failed');
    expect(done.failure?.code).toBe('IMAP_AUTH_FAILED');
    expect(await imapRecords(workspace.id)).toBe(0);
    const commands = await dovecot.commandsSeen(user);
    expect(commands.filter((c) => c.includes('FETCH') || c === 'SELECT' || c === 'EXAMINE')).toEqual([]);
    expect((await api.request<{ status: string; statusCode: string }>('GET', `/v1/workspaces/${workspace.id}/imap-source`)).body).toMatchObject({
      status: 'invalid',
      statusCode: 'IMAP_AUTH_FAILED',
    });
  });

  it('fails NO_API_KEY before any IMAP connection when the tenant has no provider key', async () => {
    const { user, workspace } = await mailboxWorkspace({ key: false });
    for (const message of rfc822Messages(2)) dovecot.deliver(user, 'INBOX', message);
    const before = await dovecot.connectionCount();
    const done = await api.waitForBackfill(await startBackfill(workspace.id), undefined, 30_000);
    expect(done.failure?.code).toBe('NO_API_KEY');
    expect(await dovecot.connectionCount()).toBe(before);
    expect(await dovecot.commandsSeen(user)).toEqual([]);
  });

  it('answers 404 IMAP_SOURCE_NOT_FOUND for a backfill from a workspace without a mailbox', async () => {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    const started = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: { source: 'imap' } });
    expect(started.status).toBe(404);
    expect(started.body.error.code).toBe('IMAP_SOURCE_NOT_FOUND');
  });

  it('starts a folder again when its UIDVALIDITY changed, without storing a message twice', async () => {
    const { user, workspace } = await mailboxWorkspace();
    const first = rfc822Messages(4 * PAGE, 200).map((m, i) => (i < PAGE ? m : m.replace(/\r\n\r\n/, `\r\n\r\n${HOLD} `)));
    for (const message of first) dovecot.deliver(user, 'INBOX', message);
    // page 1 commits; the calls of pages 2 and 3 are held (page 4 is not fetched yet), and the backfill is cancelled with its checkpoint after page 1
    const gate = simulator.gate({ marker: HOLD });
    const jobId = await startBackfill(workspace.id);
    await api.waitForBackfill(jobId, (v) => v.counters.recordsProcessed === PAGE, 30_000);
    expect((await api.request('POST', `/v1/backfills/${jobId}/cancel`)).status).toBe(202);
    gate.open();
    const cancelled = await api.waitForBackfill(jobId, undefined, 30_000);
    expect(cancelled.status).toBe('cancelled');

    // the server forgets its UIDs: the same messages get new ones under a new UIDVALIDITY
    dovecot.resetFolder(user, 'INBOX');
    for (const message of rfc822Messages(2, 300)) dovecot.deliver(user, 'INBOX', message);
    const resumed = await api.waitForBackfill(await startBackfill(workspace.id), undefined, 60_000);
    expect(resumed.status).toBe('succeeded');
    expect(await imapRecords(workspace.id)).toBe(4 * PAGE + 2);
  });

  it('fails IMAP_UNAVAILABLE, resumable, when the server goes away mid-run, and resumes after the last committed UID', async () => {
    const { user, workspace } = await mailboxWorkspace();
    const messages = rfc822Messages(3 * PAGE, 400).map((m, i) => (i >= PAGE && i < 2 * PAGE ? m.replace(/\r\n\r\n/, `\r\n\r\n${HOLD} `) : m));
    for (const message of messages) dovecot.deliver(user, 'INBOX', message);
    const gate = simulator.gate({ marker: HOLD });
    const jobId = await startBackfill(workspace.id);
    await gate.waitForHeld(1);
    await dovecot.stop();
    gate.open();
    const failed = await api.waitForBackfill(jobId, undefined, 60_000);
    expect(failed.status).toBe('failed');
    expect(failed.failure?.code).toBe('IMAP_UNAVAILABLE');
    expect(failed.failure?.message).toContain('resumes from its checkpoint');
    const committed = failed.counters.recordsProcessed;
    expect(committed).toBeGreaterThanOrEqual(PAGE);

    await dovecot.restart();
    const calls = simulator.usageReported().length;
    const resumed = await api.waitForBackfill(await startBackfill(workspace.id), undefined, 60_000);
    expect(resumed.status).toBe('succeeded');
    expect(await imapRecords(workspace.id)).toBe(3 * PAGE);
    // only what had not committed was sent to the provider again
    expect(simulator.usageReported().length - calls).toBe(3 * PAGE - committed);
  });
});

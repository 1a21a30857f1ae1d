import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { ProviderSimulator, rfc822Messages, simulatorEnv } from '#libs/testing';
import { type ApiErrorBody, ApiHarness, type JobStarted } from './api-harness.js';
import { HostileImapServer } from './hostile-imap-server.js';

const PAGE = 3;
const TIMEOUT_MS = 1_000;

/**
 * Breaker: a mailbox on a hostile IMAP server (a raw node:net server that greets and then
 * misbehaves). Every connection test must answer a typed error and every backfill must end in a
 * terminal state with a typed failure; none may hang or answer 500, and no message may be skipped.
 */
describe('Mailbox on a hostile IMAP server (breaker, e2e, in-process worker)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  let imap: HostileImapServer;
  let port: number;
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        SYNC_PAGE_SIZE: String(PAGE),
        EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
        IMAP_ALLOW_PLAINTEXT: 'true',
        IMAP_MAX_ATTEMPTS: '2',
        IMAP_RETRY_BASE_MS: '50',
        IMAP_TIMEOUT_MS: String(TIMEOUT_MS),
      },
      { worker: true },
    );
    prisma = api.app.get(PrismaService);
  }, 60_000);
  afterEach(async () => {
    await imap?.stop();
  });
  afterAll(async () => {
    await api?.close();
    await simulator.stop();
  });

  async function hostileMailbox(setup: (server: HostileImapServer) => void) {
    imap = new HostileImapServer();
    setup(imap);
    port = await imap.start();
    const tenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, {
      body: { value: `sk-hostile-${randomBytes(12).toString('hex')}` },
    });
    const workspace = await api.newWorkspace(tenant.id);
    const put = await api.request('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
      body: { host: '127.0.0.1', port, tlsMode: 'none', username: 'user', secret: 'password', folders: ['INBOX'] },
    });
    expect(put.status).toBe(200);
    return workspace;
  }
  const backfill = async (workspaceId: string) => {
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: { source: 'imap' } });
    expect(started.status).toBe(202);
    return api.waitForBackfill(started.body.jobId, undefined, 45_000);
  };
  const messages = (count: number) => rfc822Messages(count).map((text, i) => ({ uid: i + 1, text: text.replace(/\n/g, '\r\n') }));

  it('a connection test against a server that never answers after the login ends with a typed error', async () => {
    const workspace = await hostileMailbox((server) => {
      server.messages = messages(2);
      // the server greets, takes the login, then never answers anything again
      server.misbehave = (_tag, command) => !['CAPABILITY', 'LOGIN'].includes(command);
    });
    const tested = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
    expect(tested.status).toBe(502);
    expect(tested.body.error.code).toBe('IMAP_UNAVAILABLE');
  }, 60_000);

  it('a backfill whose server stops answering at EXAMINE fails IMAP_UNAVAILABLE', async () => {
    const workspace = await hostileMailbox((server) => {
      server.messages = messages(2);
      server.misbehave = (_tag, command) => command === 'EXAMINE' || command === 'SELECT';
    });
    const done = await backfill(workspace.id);
    expect(done.status).toBe('failed');
    expect(done.failure?.code).toBe('IMAP_UNAVAILABLE');
  }, 60_000);

  it('messages expunged between SEARCH and FETCH do not end the folder: the later ones are still read', async () => {
    const workspace = await hostileMailbox((server) => {
      server.messages = messages(5);
      // the first page's three UIDs are gone by the time their sizes are asked for
      for (const uid of [1, 2, 3]) server.vanished.add(uid);
    });
    const done = await backfill(workspace.id);
    expect(done.status).toBe('succeeded');
    expect(await prisma.sourceRecord.count({ where: { workspaceId: workspace.id, source: 'imap' } })).toBe(2);
  }, 60_000);

  it('a server announcing a huge literal in FETCH ends the backfill failed, typed', async () => {
    const workspace = await hostileMailbox((server) => {
      server.messages = messages(2);
      server.misbehave = (tag, command, args, socket) => {
        if (command !== 'UID FETCH' || !/BODY/i.test(args)) return false;
        socket.write(`* 1 FETCH (UID 1 BODY[] {4000000000}\r\n`);
        socket.write(Buffer.alloc(64 * 1024, 0x41));
        return true;
      };
    });
    const done = await backfill(workspace.id);
    expect(done.status).toBe('failed');
    expect(done.failure?.code).toBe('IMAP_UNAVAILABLE');
  }, 60_000);

  it('a server dropping the connection mid-FETCH ends the backfill failed IMAP_UNAVAILABLE (resumable)', async () => {
    const workspace = await hostileMailbox((server) => {
      server.messages = messages(2);
      server.misbehave = (_tag, command, args, socket) => {
        if (command !== 'UID FETCH' || !/BODY/i.test(args)) return false;
        socket.write(`* 1 FETCH (UID 1 BODY[] {500}\r\nFrom: half`);
        setImmediate(() => socket.destroy());
        return true;
      };
    });
    const done = await backfill(workspace.id);
    expect(done.status).toBe('failed');
    expect(done.failure?.code).toBe('IMAP_UNAVAILABLE');
  }, 60_000);

  it('duplicate UIDs in SEARCH and FETCH store each message once', async () => {
    const workspace = await hostileMailbox((server) => {
      server.messages = messages(2);
      server.misbehave = (tag, command, args, socket, self) => {
        if (command !== 'UID SEARCH') return false;
        socket.write(`* SEARCH 1 1 2 2 1\r\n${tag} OK done\r\n`);
        void self;
        return true;
      };
    });
    const done = await backfill(workspace.id);
    expect(done.status).toBe('succeeded');
    expect(await prisma.sourceRecord.count({ where: { workspaceId: workspace.id, source: 'imap' } })).toBe(2);
  }, 60_000);

  it('a UIDVALIDITY that changes at every EXAMINE still ends the backfill', async () => {
    const workspace = await hostileMailbox((server) => {
      server.messages = messages(7);
      server.flipUidValidity = true;
    });
    const done = await backfill(workspace.id);
    expect(['succeeded', 'failed']).toContain(done.status);
  }, 60_000);
});

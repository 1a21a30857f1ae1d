import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { ProviderSimulator, rfc822Messages, simulatorEnv } from '#libs/testing';
import { ApiHarness, type JobStarted } from './api-harness.js';
import { HostileImapServer } from './hostile-imap-server.js';

const PAGE = 3;

/**
 * Breaker, fourth part: a UID FETCH the server refuses (NO [UNAVAILABLE]) for the sizes or for the
 * sources, and an EXAMINE refused for a moment, must not end as a read folder, a skipped message or
 * a folder that does not exist.
 */
describe('Mailbox on a hostile IMAP server, part 4 (breaker, e2e, in-process worker)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  let imap: HostileImapServer;
  let api: ApiHarness;
  let prisma: PrismaService;
  const secret = `pw-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        SYNC_PAGE_SIZE: String(PAGE),
        // 127.0.0.1 only: localhost also resolves to ::1 on some hosts, which must then be refused
        EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
        IMAP_ALLOW_PLAINTEXT: 'true',
        IMAP_MAX_ATTEMPTS: '2',
        IMAP_RETRY_BASE_MS: '50',
        IMAP_TIMEOUT_MS: '1000',
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

  async function hostileMailbox(setup: (server: HostileImapServer) => void, host = '127.0.0.1') {
    imap = new HostileImapServer();
    setup(imap);
    const port = await imap.start();
    const tenant = await api.newTenant();
    await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, {
      body: { value: `sk-hostile-${randomBytes(12).toString('hex')}` },
    });
    const workspace = await api.newWorkspace(tenant.id);
    const put = await api.request('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
      body: { host, port, tlsMode: 'none', username: 'user', secret, folders: ['INBOX'] },
    });
    expect(put.status).toBe(200);
    return workspace;
  }
  const start = async (workspaceId: string) => {
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: { source: 'imap' } });
    expect(started.status).toBe(202);
    return started.body.jobId;
  };
  const messages = (count: number) => rfc822Messages(count).map((text, i) => ({ uid: i + 1, text: text.replace(/\n/g, '\r\n') }));

  it.each([
    ['the sizes', false],
    ['the sources', true],
  ])(
    'a UID FETCH of %s answered NO [UNAVAILABLE] does not lose the messages',
    async (_what, sources) => {
      const workspace = await hostileMailbox((server) => {
        server.messages = messages(4);
        server.misbehave = (tag, command, args, socket) => {
          if (command !== 'UID FETCH' || /BODY/i.test(args) !== sources) return false;
          socket.write(`${tag} NO [UNAVAILABLE] fetch backend is down, try later\r\n`);
          return true;
        };
      });
      const done = await api.waitForBackfill(await start(workspace.id), undefined, 30_000);
      const stored = await prisma.sourceRecord.count({ where: { workspaceId: workspace.id, source: 'imap' } });
      // either every message is read or the job says it could not read them
      expect({ status: done.status, stored, code: done.failure?.code ?? null }).toEqual(
        done.status === 'succeeded' ? { status: 'succeeded', stored: 4, code: null } : { status: 'failed', stored, code: 'IMAP_UNAVAILABLE' },
      );
    },
    60_000,
  );

  it('an EXAMINE answered NO [UNAVAILABLE] for a moment is not IMAP_FOLDER_NOT_FOUND', async () => {
    const workspace = await hostileMailbox((server) => {
      server.messages = messages(2);
      server.misbehave = (tag, command, _args, socket) => {
        if (command !== 'EXAMINE') return false;
        socket.write(`${tag} NO [UNAVAILABLE] mailbox backend is down, try later\r\n`);
        return true;
      };
    });
    const done = await api.waitForBackfill(await start(workspace.id), undefined, 30_000);
    expect(done.failure?.code).toBe('IMAP_UNAVAILABLE');
  }, 60_000);
});

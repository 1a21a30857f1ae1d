import { afterAll, afterEach, beforeAll, expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { ProviderSimulator, rfc822Messages, simulatorEnv } from '#libs/testing';
import { ApiHarness, type JobStarted } from './api-harness.js';
import { HostileImapServer } from './hostile-imap-server.js';

/** Messages page size of the hostile-server suites. */
export const HOSTILE_PAGE = 3;

/**
 * The set-up the hostile IMAP server suites share, registered in the calling describe: an API with an
 * in-process worker (short IMAP timeouts, 2 tries, plain text, 127.0.0.1 allowed), a fresh
 * HostileImapServer per case (stopped after it), and helpers to connect a mailbox to it and start a
 * backfill from it. `api`, `prisma` and `imap` are read once the hooks ran.
 */
export function hostileMailboxSuite() {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  const suite = {
    api: undefined as unknown as ApiHarness,
    prisma: undefined as unknown as PrismaService,
    imap: undefined as unknown as HostileImapServer,
    secret: `pw-${randomBytes(8).toString('hex')}`,

    /** A tenant with a key and a workspace whose mailbox is a fresh hostile server set up by `setup`. */
    async hostileMailbox(setup: (server: HostileImapServer) => void, host = '127.0.0.1') {
      suite.imap = new HostileImapServer();
      setup(suite.imap);
      const port = await suite.imap.start();
      const tenant = await suite.api.newTenant();
      await suite.api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, {
        body: { value: `sk-hostile-${randomBytes(12).toString('hex')}` },
      });
      const workspace = await suite.api.newWorkspace(tenant.id);
      const put = await suite.api.request('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
        body: { host, port, tlsMode: 'none', username: 'user', secret: suite.secret, folders: ['INBOX'] },
      });
      expect(put.status).toBe(200);
      return workspace;
    },

    /** Starts a backfill from the workspace's mailbox: its job id. */
    async start(workspaceId: string) {
      const started = await suite.api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: { source: 'imap' } });
      expect(started.status).toBe(202);
      return started.body.jobId;
    },

    /** `count` messages numbered from UID 1, with the CRLF line ends a server sends. */
    messages: (count: number) => rfc822Messages(count).map((text, i) => ({ uid: i + 1, text: text.replace(/\n/g, '\r\n') })),
  };

  beforeAll(async () => {
    suite.api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        SYNC_PAGE_SIZE: String(HOSTILE_PAGE),
        // 127.0.0.1 only: localhost also resolves to ::1 on some hosts, which must then be refused
        EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
        IMAP_ALLOW_PLAINTEXT: 'true',
        IMAP_MAX_ATTEMPTS: '2',
        IMAP_RETRY_BASE_MS: '50',
        IMAP_TIMEOUT_MS: '1000',
      },
      { worker: true },
    );
    suite.prisma = suite.api.app.get(PrismaService);
  }, 60_000);
  afterEach(async () => {
    await suite.imap?.stop();
  });
  afterAll(async () => {
    await suite.api?.close();
    await simulator.stop();
  });
  return suite;
}

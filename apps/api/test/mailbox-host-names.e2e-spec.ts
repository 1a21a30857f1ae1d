import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ProviderSimulator, simulatorEnv } from '#libs/testing';
import { type ApiErrorBody, ApiHarness, type JobStarted } from './api-harness.js';
import { HostileImapServer } from './hostile-imap-server.js';

/**
 * Breaker: mailbox host names that reach loopback, under an egress policy that does not allow it
 * (EGRESS_ALLOWED_CIDRS names a documentation address only). Names are taken at save and must be
 * refused when connected to, before a byte reaches the server, in every spelling the URL parser folds
 * to localhost.
 */
describe('Mailbox host names resolving to loopback (breaker, e2e, in-process worker)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  const imap = new HostileImapServer();
  let port: number;
  let api: ApiHarness;

  beforeAll(async () => {
    port = await imap.start();
    api = await ApiHarness.start(
      {
        ...simulatorEnv(await simulator.start()),
        EGRESS_ALLOWED_CIDRS: '192.0.2.1/32',
        IMAP_ALLOW_PLAINTEXT: 'true',
        IMAP_MAX_ATTEMPTS: '1',
        IMAP_TIMEOUT_MS: '2000',
      },
      { worker: true },
    );
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await imap.stop();
    await simulator.stop();
  });

  it.each(['localhost', 'LOCALHOST', 'localhost.', 'ｌｏｃａｌｈｏｓｔ', 'Localhost.'])(
    '%s is refused (EGRESS_REFUSED, or not resolvable) at the connection test and the backfill, the server never reached',
    async (host) => {
      const tenant = await api.newTenant();
      await api.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, {
        body: { value: `sk-names-${randomBytes(12).toString('hex')}` },
      });
      const workspace = await api.newWorkspace(tenant.id);
      const put = await api.request<ApiErrorBody>('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
        body: { host, port, tlsMode: 'none', username: 'user', secret: 'password' },
      });
      // refused at once is as good as refused at connect; taken, it must be refused when connected to
      if (put.status !== 200) {
        expect(put.body.error.code).toMatch(/EGRESS_REFUSED|VALIDATION_FAILED/);
        return;
      }
      const before = imap.connections;
      const tested = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
      // a name the resolver does not know (localhost. on this host) is as good: nothing was dialled
      const refused = (error: { code?: string; message?: string } | null | undefined) =>
        error?.code === 'EGRESS_REFUSED' || (error?.code === 'IMAP_UNAVAILABLE' && /could not be resolved/.test(error.message ?? ''));
      expect({ error: tested.body.error, refused: refused(tested.body.error) }).toMatchObject({ refused: true });
      const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: { source: 'imap' } });
      const done = await api.waitForBackfill(started.body.jobId, undefined, 30_000);
      expect({ failure: done.failure, refused: refused(done.failure) }).toMatchObject({ refused: true });
      expect(imap.connections).toBe(before);
    },
    60_000,
  );
});

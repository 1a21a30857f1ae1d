import { describe, expect, it } from '@jest/globals';
import { type ApiErrorBody } from './api-harness.js';
import { hostileMailboxSuite } from './hostile-mailbox-suite.js';

/**
 * Breaker, third part: failures imapflow reports as a `false` result rather than an error (a STATUS
 * cut off, a UID SEARCH the server answers NO [UNAVAILABLE]) must not read as "no such folder" or
 * "no messages".
 */
describe('Mailbox on a hostile IMAP server, part 3 (breaker, e2e, in-process worker)', () => {
  const suite = hostileMailboxSuite();

  it('a connection dropped during STATUS is IMAP_UNAVAILABLE, not IMAP_FOLDER_NOT_FOUND', async () => {
    const workspace = await suite.hostileMailbox((server) => {
      server.misbehave = (_tag, command, _args, socket) => {
        if (command !== 'STATUS') return false;
        socket.destroy();
        return true;
      };
    });
    const tested = await suite.api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
    expect({ status: tested.status, code: tested.body.error.code }).toEqual({ status: 502, code: 'IMAP_UNAVAILABLE' });
  }, 60_000);

  it('a UID SEARCH answered NO [UNAVAILABLE] does not end the folder as read: the backfill does not succeed without the messages', async () => {
    const workspace = await suite.hostileMailbox((server) => {
      server.messages = suite.messages(4);
      server.misbehave = (tag, command, _args, socket) => {
        if (command !== 'UID SEARCH') return false;
        socket.write(`${tag} NO [UNAVAILABLE] search backend is down, try later\r\n`);
        return true;
      };
    });
    const done = await suite.api.waitForBackfill(await suite.start(workspace.id), undefined, 30_000);
    const stored = await suite.prisma.sourceRecord.count({ where: { workspaceId: workspace.id, source: 'imap' } });
    // either every message is read or the job says it could not read them
    expect(done.status === 'succeeded' ? stored : done.failure?.code).toBe(done.status === 'succeeded' ? 4 : 'IMAP_UNAVAILABLE');
  }, 60_000);
});

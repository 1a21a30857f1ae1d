import { describe, expect, it } from '@jest/globals';
import { hostileMailboxSuite } from './hostile-mailbox-suite.js';

/**
 * Breaker, fourth part: a UID FETCH the server refuses (NO [UNAVAILABLE]) for the sizes or for the
 * sources, and an EXAMINE refused for a moment, must not end as a read folder, a skipped message or
 * a folder that does not exist.
 */
describe('Mailbox on a hostile IMAP server, part 4 (breaker, e2e, in-process worker)', () => {
  const suite = hostileMailboxSuite();

  it.each([
    ['the sizes', false],
    ['the sources', true],
  ])(
    'a UID FETCH of %s answered NO [UNAVAILABLE] does not lose the messages',
    async (_what, sources) => {
      const workspace = await suite.hostileMailbox((server) => {
        server.messages = suite.messages(4);
        server.misbehave = (tag, command, args, socket) => {
          if (command !== 'UID FETCH' || /BODY/i.test(args) !== sources) return false;
          socket.write(`${tag} NO [UNAVAILABLE] fetch backend is down, try later\r\n`);
          return true;
        };
      });
      const done = await suite.api.waitForBackfill(await suite.start(workspace.id), undefined, 30_000);
      const stored = await suite.prisma.sourceRecord.count({ where: { workspaceId: workspace.id, source: 'imap' } });
      // either every message is read or the job says it could not read them
      expect({ status: done.status, stored, code: done.failure?.code ?? null }).toEqual(
        done.status === 'succeeded' ? { status: 'succeeded', stored: 4, code: null } : { status: 'failed', stored, code: 'IMAP_UNAVAILABLE' },
      );
    },
    60_000,
  );

  it('an EXAMINE answered NO [UNAVAILABLE] for a moment is not IMAP_FOLDER_NOT_FOUND', async () => {
    const workspace = await suite.hostileMailbox((server) => {
      server.messages = suite.messages(2);
      server.misbehave = (tag, command, _args, socket) => {
        if (command !== 'EXAMINE') return false;
        socket.write(`${tag} NO [UNAVAILABLE] mailbox backend is down, try later\r\n`);
        return true;
      };
    });
    const done = await suite.api.waitForBackfill(await suite.start(workspace.id), undefined, 30_000);
    expect(done.failure?.code).toBe('IMAP_UNAVAILABLE');
  }, 60_000);
});

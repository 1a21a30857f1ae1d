import { describe, expect, it } from '@jest/globals';
import { eventually } from '#libs/testing';
import { type ApiErrorBody } from './api-harness.js';
import { hostileMailboxSuite } from './hostile-mailbox-suite.js';

/**
 * Breaker, second part: a hung mailbox server against cancel, a server that never answers before
 * the login, a server that echoes the password in its refusal, a host name resolving to an address
 * the allow-list lacks, and a UIDVALIDITY that changes at every SELECT (nothing stored twice).
 */
describe('Mailbox on a hostile IMAP server, part 2 (breaker, e2e, in-process worker)', () => {
  const suite = hostileMailboxSuite();

  it('a backfill hung on a silent server can be cancelled', async () => {
    const workspace = await suite.hostileMailbox((server) => {
      server.messages = suite.messages(2);
      server.misbehave = (_tag, command) => command === 'EXAMINE' || command === 'SELECT';
    });
    const jobId = await suite.start(workspace.id);
    await eventually('the EXAMINE the server never answers', () => suite.imap.commands.includes('EXAMINE'));
    const cancel = await suite.api.request('POST', `/v1/backfills/${jobId}/cancel`);
    expect(cancel.status).toBeLessThan(300);
    const done = await suite.api.waitForBackfill(jobId, undefined, 30_000);
    expect(done.status).toBe('cancelled');
  }, 60_000);

  it('a connection test against a server silent before the login ends with a typed error', async () => {
    const workspace = await suite.hostileMailbox((server) => {
      // greets, then never answers CAPABILITY
      server.misbehave = () => true;
    });
    const tested = await suite.api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
    expect(tested.status).toBe(502);
    expect(tested.body.error.code).toBe('IMAP_UNAVAILABLE');
  }, 60_000);

  it("a server's refusal that echoes the password never reaches the API's answer or the job", async () => {
    const workspace = await suite.hostileMailbox((server) => {
      server.misbehave = (tag, command, args, socket) => {
        if (command !== 'LOGIN') return false;
        socket.write(`${tag} NO [AUTHENTICATIONFAILED] wrong password ${args}\r\n`);
        return true;
      };
    });
    const tested = await suite.api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
    expect(tested.status).toBe(422);
    expect(tested.body.error.code).toBe('IMAP_AUTH_FAILED');
    expect(JSON.stringify(tested.body)).not.toContain(suite.secret);
    const done = await suite.api.waitForBackfill(await suite.start(workspace.id), undefined, 30_000);
    expect(done.failure?.code).toBe('IMAP_AUTH_FAILED');
    expect(JSON.stringify(done)).not.toContain(suite.secret);
    const audit = await suite.prisma.auditEvent.findMany({ where: { tenantId: done.tenantId } });
    expect(JSON.stringify(audit)).not.toContain(suite.secret);
  }, 60_000);

  it('a host name is resolved through the egress lookup at connect time (localhost with ::1 refused, or allowed as 127.0.0.1 only)', async () => {
    const workspace = await suite.hostileMailbox((server) => {
      server.messages = suite.messages(1);
    }, 'localhost');
    const tested = await suite.api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
    // /etc/hosts here maps localhost to 127.0.0.1 only: the allow-list takes it
    expect([200, 400, 422]).toContain(tested.status);
    if (tested.status !== 200) expect(tested.body.error.code).toBe('EGRESS_REFUSED');
  }, 60_000);

  it('a UIDVALIDITY that changes at every SELECT ends the run IMAP_UNAVAILABLE, each message stored once', async () => {
    const workspace = await suite.hostileMailbox((server) => {
      server.messages = suite.messages(7);
      server.flipUidValidity = true;
      // drop the connection after every page's FETCH of sources, so every page re-SELECTs
      server.misbehave = (tag, command, args, socket, self) => {
        if (command !== 'UID FETCH' || !/BODY/i.test(args)) return false;
        socket.write(self.answer(tag, command, args));
        socket.end();
        return true;
      };
    });
    const jobId = await suite.start(workspace.id);
    const done = await suite.api.waitForBackfill(jobId, undefined, 30_000).catch(async (error: Error) => {
      // what the worker did meanwhile: a reconnect, a SELECT and a full re-read per loop, with nothing committed
      const stored = await suite.prisma.sourceRecord.count({ where: { workspaceId: workspace.id, source: 'imap' } });
      throw new Error(
        `${error.message}; connections ${suite.imap.connections}, EXAMINEs ${suite.imap.commands.filter((c) => c === 'EXAMINE').length}, stored ${stored}`,
      );
    });
    // UIDs that change meaning at every session cannot be checkpointed: the run ends, typed, resumable
    expect(done.status).toBe('failed');
    expect(done.failure?.code).toBe('IMAP_UNAVAILABLE');
    expect(done.failure?.message).toContain('UIDVALIDITY');
    // and what it stored, it stored once
    const rows = await suite.prisma.sourceRecord.findMany({ where: { workspaceId: workspace.id, source: 'imap' }, select: { externalId: true } });
    expect(new Set(rows.map((r) => r.externalId)).size).toBe(rows.length);
    expect(rows.length).toBeGreaterThan(0);
  }, 60_000);
});

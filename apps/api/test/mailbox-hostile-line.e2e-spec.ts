import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { ProviderSimulator, simulatorEnv } from '#libs/testing';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';
import { HostileImapServer } from './hostile-imap-server.js';

/** Most a response line may sensibly hold before the client hangs up (bytes): far above any real STATUS line. */
const SANE_LINE_BYTES = 64 * 1024 * 1024;
/** What the hostile server offers at most (bytes), so the test itself stays bounded. */
const OFFERED_BYTES = 256 * 1024 * 1024;

/**
 * Breaker: a mailbox server that answers STATUS with one endless line (no CRLF). The API process
 * (POST .../imap-source/test) must hang up long before it has buffered hundreds of MiB for one
 * tenant, or any tenant can exhaust the memory every other tenant's requests share.
 */
describe('Mailbox server sending an endless response line (breaker, e2e)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  let imap: HostileImapServer;
  let api: ApiHarness;
  let sent = 0;
  let clientClosedEarly = false;

  beforeAll(async () => {
    api = await ApiHarness.start({
      ...simulatorEnv(await simulator.start()),
      EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
      IMAP_ALLOW_PLAINTEXT: 'true',
      IMAP_MAX_ATTEMPTS: '1',
      IMAP_TIMEOUT_MS: '5000',
    });
  }, 60_000);
  afterAll(async () => {
    await imap?.stop();
    await api?.close();
    await simulator.stop();
  });

  /** Writes the endless line with backpressure until OFFERED_BYTES or the client hangs up. */
  async function flood(socket: Socket): Promise<void> {
    const chunk = Buffer.alloc(1024 * 1024, 0x31);
    socket.write('* STATUS "INBOX" (MESSAGES ');
    let closed = false;
    socket.once('close', () => (closed = true));
    while (sent < OFFERED_BYTES && !closed) {
      sent += chunk.length;
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    }
    clientClosedEarly = closed;
    socket.destroy();
  }

  it('POST .../imap-source/test hangs up on a response line long before hundreds of MiB', async () => {
    imap = new HostileImapServer();
    let flooding: Promise<void> | undefined;
    imap.misbehave = (_tag, command, _args, socket) => {
      if (command !== 'STATUS') return false;
      flooding = flood(socket);
      return true;
    };
    const port = await imap.start();
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    const put = await api.request('PUT', `/v1/workspaces/${workspace.id}/imap-source`, {
      body: { host: '127.0.0.1', port, tlsMode: 'none', username: 'user', secret: `pw-${randomBytes(6).toString('hex')}` },
    });
    expect(put.status).toBe(200);
    const tested = await api.request<ApiErrorBody>('POST', `/v1/workspaces/${workspace.id}/imap-source/test`);
    // the server side sees the hang-up a moment after the answer (or floods to the end when there is none)
    await flooding;
    // the bytes offered before the client hung up
    expect({ sentMiB: Math.round(sent / 2 ** 20), clientClosedEarly }).toEqual({ sentMiB: expect.any(Number) as unknown, clientClosedEarly: true });
    expect(sent).toBeLessThan(SANE_LINE_BYTES);
    // a dropped or refused STATUS is the server's failure, not a missing folder
    expect({ sentMiB: Math.round(sent / 2 ** 20), status: tested.status, code: tested.body.error?.code }).toEqual({
      sentMiB: expect.any(Number) as unknown,
      status: 502,
      code: 'IMAP_UNAVAILABLE',
    });
  }, 120_000);
});

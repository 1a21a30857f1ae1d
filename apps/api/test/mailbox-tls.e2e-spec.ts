import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateDovecot, ProviderSimulator, rfc822Messages, simulatorEnv } from '#libs/testing';
import { type ApiErrorBody, ApiHarness, type JobStarted } from './api-harness.js';

interface MailboxBody {
  host?: string;
  port?: number;
  tlsMode?: string;
  username?: string;
  authMethod?: string;
  secret?: string;
}

/**
 * TLS and sign-in against a real IMAP server (a private Dovecot with IMAPS and STARTTLS and a
 * self-signed certificate): the certificate is verified (untrusted without IMAP_TLS_CA_FILE, trusted
 * with it), plain text only where the operator allows it, and an XOAUTH2 token the server does not
 * take is a refused login. Two in-process APIs on one database: `strict` (no CA file, no plain text)
 * and `trusting` (the certificate as IMAP_TLS_CA_FILE, plain text allowed), same master keys.
 */
describe('Mailbox TLS and sign-in (e2e, private Dovecot with TLS, in-process workers)', () => {
  const simulator = new ProviderSimulator({ validKeys: { openai: ['*'] } });
  const passwords = new Map<string, string>();
  let users = 0;
  let dovecot: PrivateDovecot;
  let strict: ApiHarness;
  let trusting: ApiHarness;
  let caDir: string;

  beforeAll(async () => {
    for (let i = 0; i < 8; i++) passwords.set(`tls${i}`, `pw-${i}-${randomBytes(6).toString('hex')}`);
    // no XOAUTH2 offered: a token has no mechanism to go by
    dovecot = await PrivateDovecot.start({ tls: true, xoauth2: false, users: [...passwords].map(([name, password]) => ({ name, password })) });
    const common = {
      ...simulatorEnv(await simulator.start()),
      EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
      IMAP_MAX_ATTEMPTS: '1',
      IMAP_TIMEOUT_MS: '5000',
    };
    strict = await ApiHarness.start({ ...common, IMAP_ALLOW_PLAINTEXT: 'false' }, { worker: true });
    caDir = mkdtempSync(join(tmpdir(), 'mailbox-tls-ca-'));
    writeFileSync(join(caDir, 'dovecot.pem'), dovecot.certificate);
    // the same database, master keys and admin token: what one API sealed, the other opens
    trusting = await ApiHarness.start(
      {
        ...common,
        ADMIN_API_TOKEN: strict.env.ADMIN_API_TOKEN,
        BYOK_MASTER_KEYS: strict.env.BYOK_MASTER_KEYS,
        BYOK_FINGERPRINT_KEY: strict.env.BYOK_FINGERPRINT_KEY,
        IMAP_ALLOW_PLAINTEXT: 'true',
        IMAP_TLS_CA_FILE: join(caDir, 'dovecot.pem'),
      },
      { worker: true, databaseUrl: strict.database.url },
    );
  }, 60_000);
  afterAll(async () => {
    await trusting?.close();
    await strict?.close();
    await simulator.stop();
    await dovecot?.destroy();
    if (caDir) rmSync(caDir, { recursive: true, force: true });
  });

  /** A tenant with a provider key and a workspace, and the next unused mailbox user. */
  async function workspace() {
    const user = `tls${users++}`;
    const tenant = await strict.newTenant();
    await strict.request('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: `sk-tls-${randomBytes(12).toString('hex')}` } });
    const { id } = await strict.newWorkspace(tenant.id);
    return { user, password: passwords.get(user)!, workspaceId: id };
  }
  const put = (api: ApiHarness, workspaceId: string, body: MailboxBody) =>
    api.request<ApiErrorBody>('PUT', `/v1/workspaces/${workspaceId}/imap-source`, { body: { host: '127.0.0.1', ...body } });
  const test = (api: ApiHarness, workspaceId: string) =>
    api.request<ApiErrorBody & { status: string; folders: { name: string; messages: number }[] }>(
      'POST',
      `/v1/workspaces/${workspaceId}/imap-source/test`,
    );
  async function backfill(api: ApiHarness, workspaceId: string) {
    const started = await api.request<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: { source: 'imap' } });
    expect(started.status).toBe(202);
    return api.waitForBackfill(started.body.jobId, undefined, 60_000);
  }

  it('refuses the self-signed certificate without IMAP_TLS_CA_FILE, before any login', async () => {
    const { user, password, workspaceId } = await workspace();
    dovecot.deliver(user, 'INBOX', rfc822Messages(1)[0]);
    expect((await put(strict, workspaceId, { port: dovecot.imapsPort, tlsMode: 'implicit', username: user, secret: password })).status).toBe(200);
    const connections = await dovecot.connectionCount();

    const tested = await test(strict, workspaceId);
    expect(tested.status).toBe(422);
    expect(tested.body.error.code).toBe('IMAP_TLS_FAILED');
    expect(tested.body.error.message).toContain('self-signed');

    const done = await backfill(strict, workspaceId);
    expect(done.status).toBe('failed');
    expect(done.failure?.code).toBe('IMAP_TLS_FAILED');
    expect(done.counters.recordsProcessed).toBe(0);
    // the client reached the server and left during the handshake: no session of the user ever began
    expect(await dovecot.connectionCount()).toBeGreaterThan(connections);
    expect(await dovecot.commandsSeen(user)).toEqual([]);
    expect((await dovecot.loginAttempts()).filter((a) => a.user === user)).toEqual([]);
    // no verdict on the password: TLS failed before it was tried
    expect((await strict.request<{ status: string }>('GET', `/v1/workspaces/${workspaceId}/imap-source`)).body.status).toBe('unknown');
  });

  it('trusts the certificate given as IMAP_TLS_CA_FILE: implicit TLS and STARTTLS test valid, a backfill over TLS succeeds', async () => {
    const { user, password, workspaceId } = await workspace();
    for (const message of rfc822Messages(4, 600)) dovecot.deliver(user, 'INBOX', message);

    expect((await put(trusting, workspaceId, { port: dovecot.imapsPort, tlsMode: 'implicit', username: user, secret: password })).status).toBe(200);
    const implicit = await test(trusting, workspaceId);
    expect(implicit.status).toBe(200);
    expect(implicit.body).toEqual({ status: 'valid', folders: [expect.objectContaining({ name: 'INBOX', messages: 4 })] });

    expect((await put(trusting, workspaceId, { port: dovecot.port, tlsMode: 'starttls', username: user, secret: password })).status).toBe(200);
    const starttls = await test(trusting, workspaceId);
    expect(starttls.status).toBe(200);
    expect(starttls.body.status).toBe('valid');

    const done = await backfill(trusting, workspaceId);
    expect(done.status).toBe('succeeded');
    expect(done.counters.recordsProcessed).toBe(4);
    // every session of the user was encrypted up to its login: the plain rawlog saw none of its LOGIN or AUTHENTICATE
    expect((await dovecot.loginAttempts()).filter((a) => a.user === user)).toEqual([]);
    expect(await dovecot.commandsSeen(user)).toEqual(expect.arrayContaining(['UID SEARCH', 'UID FETCH']));
  });

  it('refuses tlsMode none unless IMAP_ALLOW_PLAINTEXT, and connects to nothing for a stored one once plain text is turned off', async () => {
    const { user, password, workspaceId } = await workspace();
    const refused = await put(strict, workspaceId, { port: dovecot.port, tlsMode: 'none', username: user, secret: password });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    expect(refused.body.error.message).toContain('tlsMode none');

    // stored while the operator allowed plain text (the other API), then plain text is off (this one)
    expect((await put(trusting, workspaceId, { port: dovecot.port, tlsMode: 'none', username: user, secret: password })).status).toBe(200);
    const connections = await dovecot.connectionCount();
    const tested = await test(strict, workspaceId);
    expect(tested.status).toBe(422);
    expect(tested.body.error.code).toBe('IMAP_TLS_FAILED');
    expect(tested.body.error.message).toContain('IMAP_ALLOW_PLAINTEXT');
    const done = await backfill(strict, workspaceId);
    expect(done.failure).toMatchObject({ code: 'IMAP_TLS_FAILED', message: expect.stringContaining('IMAP_ALLOW_PLAINTEXT') as unknown });
    expect(await dovecot.connectionCount()).toBe(connections);
    expect(await dovecot.commandsSeen(user)).toEqual([]);
  });

  it('answers IMAP_AUTH_FAILED, not IMAP_UNAVAILABLE, for an XOAUTH2 token the server offers no mechanism for, and never sends or shows it', async () => {
    const { user, workspaceId } = await workspace();
    const token = `ya29.${randomBytes(24).toString('base64url')}`;
    // plain text, so the login rawlog shows what the client sent
    const saved = await put(trusting, workspaceId, { port: dovecot.port, tlsMode: 'none', username: user, authMethod: 'xoauth2', secret: token });
    expect(saved.status).toBe(200);
    const [connections, attempts] = [await dovecot.connectionCount(), (await dovecot.loginAttempts()).length];

    const tested = await test(trusting, workspaceId);
    expect(tested.status).toBe(422);
    expect(tested.body.error.code).toBe('IMAP_AUTH_FAILED');
    expect(tested.body.error.message).toContain('XOAUTH2');
    expect((await trusting.request<{ status: string; statusCode: string }>('GET', `/v1/workspaces/${workspaceId}/imap-source`)).body).toMatchObject({
      status: 'invalid',
      statusCode: 'IMAP_AUTH_FAILED',
    });
    const done = await backfill(trusting, workspaceId);
    expect(done.failure?.code).toBe('IMAP_AUTH_FAILED');
    expect(done.counters.recordsProcessed).toBe(0);

    // Dovecot (no oauth2 passdb) announces only AUTH=PLAIN and LOGIN: the client connected, sent no
    // LOGIN or AUTHENTICATE (the token went nowhere), and no session of the user began
    expect(await dovecot.connectionCount()).toBeGreaterThan(connections);
    expect((await dovecot.loginAttempts()).length).toBe(attempts);
    expect(await dovecot.commandsSeen(user)).toEqual([]);
    for (const api of [strict, trusting]) {
      expect(api.responses.filter((body) => body.includes(token) || body.includes(token.slice(5)))).toEqual([]);
    }
  });
});

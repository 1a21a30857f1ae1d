import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PrismaService } from '#libs/database';
import { type ApiErrorBody, ApiHarness } from './api-harness.js';

interface MailboxView {
  host: string;
  port: number;
  tlsMode: string;
  secretLast4: string | null;
  secretFingerprint: string;
  folders: string[];
  since: string | null;
  status: string;
}

const newSecret = () => `pw-${randomBytes(16).toString('hex')}`;

/**
 * The workspace mailbox API with odd and hostile input, no mail server involved: body validation
 * (400 with the field at fault), the egress policy on the host (no EGRESS_ALLOWED_CIDRS here), the
 * secret kept or replaced but never shown, another tenant's workspace as not found, removal, the
 * audit rows, and a workspace transfer dropping the mailbox.
 */
describe('Mailbox API (e2e, odd input)', () => {
  let api: ApiHarness;
  let prisma: PrismaService;

  beforeAll(async () => {
    api = await ApiHarness.start({ EGRESS_ALLOWED_CIDRS: '' });
    prisma = api.app.get(PrismaService);
  });
  afterAll(async () => {
    await api?.close();
  });

  /** A tenant, its token and a workspace. */
  async function owned() {
    const tenant = await api.newTenant();
    const workspace = await api.newWorkspace(tenant.id);
    return { tenantId: tenant.id, workspaceId: workspace.id, token: await api.newTenantToken(tenant.id) };
  }
  const valid = (secret = newSecret()) => ({ host: 'imap.example.com', username: 'someone@example.com', secret });
  const path = (workspaceId: string) => `/v1/workspaces/${workspaceId}/imap-source`;
  const put = (workspaceId: string, body: unknown, token?: string) =>
    api.request<ApiErrorBody & MailboxView>('PUT', path(workspaceId), { body, token });
  const get = (workspaceId: string, token?: string) => api.request<ApiErrorBody & MailboxView>('GET', path(workspaceId), { token });

  it('refuses malformed bodies with 400 {error:{code,message}} naming the field, and stores nothing', async () => {
    const { workspaceId } = await owned();
    const { host: _host, ...noHost } = valid();
    const { username: _username, ...noUsername } = valid();
    const cases: [unknown, string][] = [
      [noHost, 'host'],
      [noUsername, 'username'],
      [{ ...valid(), host: '   ' }, 'host'],
      [{ ...valid(), port: 0 }, 'port'],
      [{ ...valid(), port: 70000 }, 'port'],
      [{ ...valid(), port: '993' }, 'port'],
      [{ ...valid(), port: 993.5 }, 'port'],
      [{ ...valid(), tlsMode: 'bogus' }, 'tlsMode'],
      [{ ...valid(), authMethod: 'kerberos' }, 'authMethod'],
      [{ ...valid(), folders: [] }, 'folders'],
      [{ ...valid(), folders: Array.from({ length: 51 }, (_, i) => `F${i}`) }, 'folders'],
      [{ ...valid(), folders: ['INBOX', 'Bad\u0001Name'] }, 'folder'],
      [{ ...valid(), folders: ['INBOX', 'Bad\r\nA1 DELETE INBOX'] }, 'folder'],
      [{ ...valid(), folders: 'INBOX' }, 'folders'],
      [{ ...valid(), folders: [42] }, 'folder'],
      [{ ...valid(), since: 'yesterday' }, 'since'],
      [{ ...valid(), since: '2024-13-01' }, 'since'],
      [{ ...valid(), since: 20240101 }, 'since'],
      [{ ...valid(), since: '2023-02-29' }, 'since'],
      // valid ISO dates Postgres' date cannot hold or no mail has: year 0 was a 500
      [{ ...valid(), since: '0000-01-01' }, 'since'],
      [{ ...valid(), since: '1969-12-31' }, 'since'],
      [{ ...valid(), secret: '' }, 'secret'],
      [{ ...valid(), secret: 42 }, 'secret'],
      [{ ...valid(), extra: true }, 'extra'],
      // a user name or token with control characters was taken, and could never sign in (echoed, CR LF and all, in the refusal)
      [{ ...valid(), username: 'someone\r\nA1 LOGOUT' }, 'username'],
      [{ ...valid(), username: 'some\u0007one' }, 'username'],
      [{ ...valid(), authMethod: 'xoauth2', secret: 'ya29.token\u0001auth=Bearer other' }, 'secret'],
      [{ ...valid(), authMethod: 'xoauth2', secret: 'ya29 token' }, 'secret'],
      [[valid()], ''],
    ];
    // each check says what is wrong, not the type's words ("port must be a number" for 0 once)
    const worded: [unknown, string][] = [
      [{ ...valid(), port: 0 }, 'port must be between 1 and 65535'],
      [{ ...valid(), port: 70000 }, 'port must be between 1 and 65535'],
      [{ ...valid(), port: '993' }, 'port must be a number'],
      [{ ...valid(), username: 'x'.repeat(321) }, 'username must be at most 320 characters'],
      [{ ...valid(), host: 'h'.repeat(254) }, 'host must be at most 253 characters'],
      [{ ...valid(), folders: ['x'.repeat(256)] }, 'a folder name must be at most 255 characters'],
      [{ ...valid(), secret: 's'.repeat(8193) }, 'secret must be at most 8192 characters'],
    ];
    for (const [body, words] of worded) expect((await put(workspaceId, body)).body.error.message).toContain(words);
    for (const [body, field] of cases) {
      const answer = await put(workspaceId, body);
      expect({ body, status: answer.status, code: answer.body.error?.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
      expect(typeof answer.body.error.message).toBe('string');
      expect(answer.body.error.message).toContain(field);
    }
    // a new mailbox needs its secret
    const { secret: _secret, ...noSecret } = valid();
    const missing = await put(workspaceId, noSecret);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({ code: 'VALIDATION_FAILED', message: expect.stringContaining('secret') as unknown });
    expect(await prisma.imapSource.count({ where: { workspaceId } })).toBe(0);
    expect((await get(workspaceId)).status).toBe(404);
    // a password is the user's own: any character but NUL is taken, and a token of b64token characters is
    expect((await put(workspaceId, { ...valid('pass word\t\u00e9\r\n') })).status).toBe(200);
    expect((await put(workspaceId, { ...valid('ya29.a0AfH6SM-bx_~+/=='), authMethod: 'xoauth2' })).status).toBe(200);
  });

  it('refuses loopback, link-local (metadata) and bracketed IPv6 hosts with 400 EGRESS_REFUSED, and takes a host name unresolved', async () => {
    const { workspaceId } = await owned();
    for (const host of [
      '127.0.0.1',
      '169.254.169.254',
      '[::1]',
      '::1',
      '0.0.0.0',
      '10.0.0.5',
      '[::ffff:127.0.0.1]',
      'imap.example.com:993',
      'user@imap.example.com',
    ]) {
      const answer = await put(workspaceId, { ...valid(), host });
      expect({ host, status: answer.status, code: answer.body.error?.code }).toEqual({ host, status: 400, code: 'EGRESS_REFUSED' });
    }
    expect(await prisma.imapSource.count({ where: { workspaceId } })).toBe(0);
    // a name is checked when it is connected to (every address it resolves to), not when saved
    const named = await put(workspaceId, { ...valid(), host: 'imap.example.com' });
    expect(named.status).toBe(200);
    expect(named.body).toMatchObject({
      host: 'imap.example.com',
      port: 993,
      tlsMode: 'implicit',
      folders: ['INBOX'],
      since: null,
      status: 'unknown',
    });
  });

  it('keeps the stored secret when PUT leaves it out, replaces it (status back to unknown) when given, and never returns it', async () => {
    const { workspaceId } = await owned();
    const first = newSecret();
    // INBOX in any case is INBOX (RFC 3501 5.1), read once; other names are case-sensitive
    const created = await put(workspaceId, { ...valid(first), since: '2024-02-29', folders: ['inbox', 'Archive', 'INBOX', 'Inbox', 'archive'] });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ secretLast4: first.slice(-4), since: '2024-02-29', folders: ['INBOX', 'Archive', 'archive'] });
    const fingerprint = created.body.secretFingerprint;

    const { secret: _kept, ...withoutSecret } = valid();
    const moved = await put(workspaceId, { ...withoutSecret, host: 'mail.example.org', tlsMode: 'starttls' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      host: 'mail.example.org',
      port: 143,
      tlsMode: 'starttls',
      secretFingerprint: fingerprint,
      secretLast4: first.slice(-4),
    });

    // a verdict on the stored secret (as a test or backfill records it), then a new secret
    await prisma.imapSource.update({ where: { workspaceId }, data: { status: 'valid', checkedAt: new Date() } });
    expect((await get(workspaceId)).body.status).toBe('valid');
    const second = newSecret();
    const replaced = await put(workspaceId, valid(second));
    expect(replaced.status).toBe(200);
    expect(replaced.body.secretFingerprint).not.toBe(fingerprint);
    expect(replaced.body).toMatchObject({ status: 'unknown', secretLast4: second.slice(-4) });

    const shown = await get(workspaceId);
    expect(shown.status).toBe(200);
    expect(
      Object.keys(shown.body)
        .filter((k) => /secret|password|token|cipher|iv|tag/i.test(k))
        .sort(),
    ).toEqual(['secretFingerprint', 'secretLast4']);
    for (const secret of [first, second]) {
      expect(api.responses.filter((body) => body.includes(secret) || body.includes(secret.slice(3)))).toEqual([]);
    }
    // stored sealed: the row holds neither secret in clear
    const row = await prisma.imapSource.findUniqueOrThrow({ where: { workspaceId } });
    expect(Buffer.from(row.secretCiphertext).toString('latin1')).not.toContain(second);
  });

  it("answers 404 to another tenant's token for GET, PUT, DELETE and test, and leaves the mailbox as it was", async () => {
    const owner = await owned();
    const stranger = await owned();
    const secret = newSecret();
    expect((await put(owner.workspaceId, valid(secret), owner.token)).status).toBe(200);
    const before = await prisma.imapSource.findUniqueOrThrow({ where: { workspaceId: owner.workspaceId } });

    const answers = [
      await get(owner.workspaceId, stranger.token),
      await put(owner.workspaceId, { ...valid(), host: 'evil.example.net' }, stranger.token),
      await api.request<ApiErrorBody>('DELETE', path(owner.workspaceId), { token: stranger.token }),
      await api.request<ApiErrorBody>('POST', `${path(owner.workspaceId)}/test`, { token: stranger.token }),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404]);
    for (const answer of answers) expect(answer.text).not.toContain(owner.tenantId);
    expect(await prisma.imapSource.findUniqueOrThrow({ where: { workspaceId: owner.workspaceId } })).toEqual(before);
    expect(await prisma.imapSource.count({ where: { tenantId: stranger.tenantId } })).toBe(0);
    // the owner's own token still sees it
    expect((await get(owner.workspaceId, owner.token)).body.host).toBe('imap.example.com');
  });

  it('removes the mailbox (then 404 IMAP_SOURCE_NOT_FOUND), and audits put and delete with fingerprints and last4 only', async () => {
    const { tenantId, workspaceId, token } = await owned();
    const first = newSecret();
    const second = newSecret();
    const a = (await put(workspaceId, valid(first), token)).body;
    const b = (await put(workspaceId, valid(second), token)).body;
    const removed = await api.request('DELETE', path(workspaceId), { token });
    expect(removed.status).toBe(204);
    const gone = await get(workspaceId, token);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('IMAP_SOURCE_NOT_FOUND');
    const again = await api.request<ApiErrorBody>('DELETE', path(workspaceId), { token });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('IMAP_SOURCE_NOT_FOUND');
    expect(await prisma.imapSource.count({ where: { workspaceId } })).toBe(0);

    const rows = await prisma.auditEvent.findMany({ where: { tenantId, action: { startsWith: 'imap_source.' } }, orderBy: { occurredAt: 'asc' } });
    expect(rows.map((r) => [r.action, r.fingerprintBefore, r.last4Before, r.fingerprintAfter, r.last4After])).toEqual([
      ['imap_source.put', null, null, a.secretFingerprint, first.slice(-4)],
      ['imap_source.put', a.secretFingerprint, first.slice(-4), b.secretFingerprint, second.slice(-4)],
      ['imap_source.delete', b.secretFingerprint, second.slice(-4), null, null],
    ]);
    for (const row of rows) {
      expect(row.details).toMatchObject({ workspaceId });
      const text = JSON.stringify(row);
      for (const secret of [first, second]) expect(text).not.toContain(secret);
    }
    // the tenant's audit page shows the same, and no secret either
    const page = await api.request<{ items: { action: string }[] }>('GET', `/v1/tenants/${tenantId}/audit?action=imap_source.put`, { token });
    expect(page.body.items).toHaveLength(2);
    for (const secret of [first, second]) expect(page.text).not.toContain(secret);
  });

  it('drops the mailbox when its workspace moves to another tenant: the new owner sees none, the row is gone', async () => {
    const from = await owned();
    const to = await owned();
    expect((await put(from.workspaceId, valid(), from.token)).status).toBe(200);
    const moved = await api.request('POST', `/v1/workspaces/${from.workspaceId}/transfer`, { body: { tenantId: to.tenantId } });
    expect(moved.status).toBe(200);
    const seen = await get(from.workspaceId, to.token);
    expect(seen.status).toBe(404);
    expect(seen.body.error.code).toBe('IMAP_SOURCE_NOT_FOUND');
    expect((await get(from.workspaceId, from.token)).status).toBe(404);
    expect(await prisma.imapSource.count({ where: { workspaceId: from.workspaceId } })).toBe(0);
    // the new owner connects its own
    expect((await put(from.workspaceId, valid(), to.token)).status).toBe(200);
  });
});

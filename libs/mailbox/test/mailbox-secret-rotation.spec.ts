import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { KeyCipher, KeyDecryptionError, type RotationReport } from '#libs/byok';
import { MailboxModule, MailboxSecretRotation, MailboxSources, type MailboxInput } from '#libs/mailbox';
import { MediumContext, randomMasterKey } from '#libs/testing';
// not exported by the lib: the test reaches the rotation's read through the application context
import { ImapSourceRepository } from '../src/imap-source.repository.js';
import { mailboxContext, sealedMailboxSecretOf } from '../src/mailbox-sources.service.js';

/**
 * Mailbox secrets (imap_sources) re-sealed under a new master key version, as provider keys and
 * webhook secrets are: each test has a database of its own, written by the service before the
 * rotation (v1 only) and rotated by the service after the restart (v1 and v2, v2 active).
 */
describe(MailboxSecretRotation.name, () => {
  const fingerprintKey = randomBytes(32).toString('base64');
  let before: MediumContext;
  let after: MediumContext;
  const env = (keys: string, active: string) => ({
    BYOK_MASTER_KEYS: keys,
    BYOK_ACTIVE_KEY_VERSION: active,
    BYOK_FINGERPRINT_KEY: fingerprintKey,
    EGRESS_ALLOWED_CIDRS: '127.0.0.1/32',
  });

  beforeEach(async () => {
    const [v1, v2] = [randomMasterKey(), randomMasterKey()];
    before = await MediumContext.create({ imports: [MailboxModule], env: env(`v1:${v1}`, 'v1') });
    after = await MediumContext.create({ imports: [MailboxModule], database: before.database, env: env(`v1:${v1},v2:${v2}`, 'v2') });
  });
  afterEach(async () => {
    await after.close();
    await before.close();
  });

  const mailbox = (secret: string, authMethod: MailboxInput['authMethod'] = 'password'): MailboxInput => ({
    host: '127.0.0.1',
    port: 993,
    tlsMode: 'implicit',
    username: 'someone@example.test',
    authMethod,
    secret,
    folders: ['INBOX', 'Archive'],
  });

  /** `count` mailboxes stored under v1, passwords and OAuth2 tokens by turns; answers workspace id -> tenant id and secret. */
  async function storeMailboxes(count: number): Promise<Map<string, { tenantId: string; secret: string }>> {
    const stored = new Map<string, { tenantId: string; secret: string }>();
    for (let i = 0; i < count; i++) {
      const tenant = await before.newTenant();
      const workspace = await before.newWorkspace(tenant.id);
      const secret = `${i % 2 ? 'ya29.' : 'pw-'}rotate-${randomBytes(10).toString('hex')}`;
      await before.get(MailboxSources).put(tenant.id, workspace.id, mailbox(secret, i % 2 ? 'xoauth2' : 'password'));
      stored.set(workspace.id, { tenantId: tenant.id, secret });
    }
    return stored;
  }

  it('re-seals every mailbox secret under the active version: each opens, its fingerprint and last4 unchanged', async () => {
    const stored = await storeMailboxes(5);
    const masked = await Promise.all([...stored].map(([workspaceId, { tenantId }]) => before.get(MailboxSources).get(tenantId, workspaceId)));

    await expect(after.get(MailboxSecretRotation).rotateAll(2)).resolves.toEqual({ activeVersion: 'v2', rotated: 5, skipped: 0, failed: 0 });
    // a second run finds nothing left to do
    await expect(after.get(MailboxSecretRotation).rotateAll(2)).resolves.toEqual({ activeVersion: 'v2', rotated: 0, skipped: 0, failed: 0 });

    const rows = await after.prisma.imapSource.findMany();
    expect(rows.map((row) => row.secretKeyVersion)).toEqual(rows.map(() => 'v2'));
    for (const [workspaceId, { tenantId, secret }] of stored) {
      const opened = await after.get(MailboxSources).open(tenantId, workspaceId);
      // compared, never printed
      expect(opened.secret === secret).toBe(true);
    }
    const remasked = await Promise.all([...stored].map(([workspaceId, { tenantId }]) => after.get(MailboxSources).get(tenantId, workspaceId)));
    expect(remasked.map((m) => [m.secretFingerprint, m.secretLast4])).toEqual(masked.map((m) => [m.secretFingerprint, m.secretLast4]));
  });

  it('keeps each secret bound to its tenant and workspace: a rotated row copied to another workspace or altered does not open', async () => {
    const stored = await storeMailboxes(2);
    await after.get(MailboxSecretRotation).rotateAll();
    const [[firstWorkspace, first], [secondWorkspace, second]] = [...stored];
    const row = (await after.get(ImapSourceRepository).find(first.tenantId, firstWorkspace))!;
    expect(row.secretKeyVersion).toBe('v2');
    const cipher = after.get(KeyCipher);
    expect(cipher.decrypt(sealedMailboxSecretOf(row), mailboxContext(first.tenantId, firstWorkspace)) === first.secret).toBe(true);

    // the first row's envelope copied over the second workspace's (another tenant's), then into a workspace of the same tenant
    const envelope = { secretCiphertext: row.secretCiphertext, secretIv: row.secretIv, secretAuthTag: row.secretAuthTag, secretKeyVersion: 'v2' };
    await after.prisma.imapSource.update({ where: { workspaceId: secondWorkspace }, data: envelope });
    await expect(after.get(MailboxSources).open(second.tenantId, secondWorkspace)).rejects.toThrow(KeyDecryptionError);
    const sibling = await after.newWorkspace(first.tenantId, 'Sibling');
    await after.get(MailboxSources).put(first.tenantId, sibling.id, mailbox(`pw-sibling-${randomBytes(6).toString('hex')}`));
    await after.prisma.imapSource.update({ where: { workspaceId: sibling.id }, data: envelope });
    await expect(after.get(MailboxSources).open(first.tenantId, sibling.id)).rejects.toThrow(/cannot be decrypted/);

    // one bit of the ciphertext flipped in place
    const flipped = Uint8Array.from(row.secretCiphertext);
    flipped[0] ^= 1;
    await after.prisma.imapSource.update({ where: { workspaceId: firstWorkspace }, data: { secretCiphertext: flipped } });
    await expect(after.get(MailboxSources).open(first.tenantId, firstWorkspace)).rejects.toThrow(KeyDecryptionError);
  });

  it('never overwrites a secret replaced between its read and its swap: it skips that row and keeps the newer secret', async () => {
    const stored = await storeMailboxes(4);
    const [[replacedWorkspace, replaced]] = [...stored];
    const newer = `pw-newer-${randomBytes(10).toString('hex')}`;

    // the rotation reads a batch, then the tenant replaces its secret (PUT, as the API does), then the
    // rotation decrypts and swaps what it read: the interleaving a live service can produce, forced
    const repository = after.get(ImapSourceRepository);
    const read = repository.findSecretsToRotate.bind(repository);
    let replacedAfterRead = false;
    repository.findSecretsToRotate = async (...args) => {
      const rows = await read(...args);
      if (!replacedAfterRead && rows.some((row) => row.workspaceId === replacedWorkspace)) {
        replacedAfterRead = true;
        await after.get(MailboxSources).put(replaced.tenantId, replacedWorkspace, mailbox(newer));
      }
      return rows;
    };
    let report: RotationReport;
    try {
      report = await after.get(MailboxSecretRotation).rotateAll(1);
    } finally {
      repository.findSecretsToRotate = read;
    }

    expect(replacedAfterRead).toBe(true);
    expect(report).toEqual({ activeVersion: 'v2', rotated: stored.size - 1, skipped: 1, failed: 0 });
    for (const [workspaceId, { tenantId, secret }] of stored) {
      const opened = await after.get(MailboxSources).open(tenantId, workspaceId);
      expect(opened.secret === (workspaceId === replacedWorkspace ? newer : secret)).toBe(true);
    }
    const rows = await after.prisma.imapSource.findMany();
    expect(rows.map((row) => row.secretKeyVersion)).toEqual(rows.map(() => 'v2'));
  });

  it('counts a row it cannot decrypt as failed, goes on with the others, and logs no secret', async () => {
    const foreign = await MediumContext.create({
      imports: [MailboxModule],
      database: before.database,
      env: env(`v1:${randomMasterKey()}`, 'v1'),
    });
    try {
      const unreadable = await foreign.newTenant();
      const workspace = await foreign.newWorkspace(unreadable.id);
      await foreign.get(MailboxSources).put(unreadable.id, workspace.id, mailbox(`pw-unknown-master-${randomBytes(8).toString('hex')}`));
      const stored = await storeMailboxes(2);

      await expect(after.get(MailboxSecretRotation).rotateAll()).resolves.toEqual({ activeVersion: 'v2', rotated: 2, skipped: 0, failed: 1 });
      for (const [workspaceId, { tenantId, secret }] of stored) {
        expect((await after.get(MailboxSources).open(tenantId, workspaceId)).secret === secret).toBe(true);
      }
      // Nest's static logger is one per process (the context created last): read every context's capture
      const logs = [before, after, foreign].map((context) => context.logs.text).join('\n');
      expect(logs).toContain('Rotated 2 mailbox secrets (1 failed)');
      expect(logs).toContain(workspace.id);
      for (const { secret } of stored.values()) expect(logs).not.toContain(secret.slice(-12));
    } finally {
      await foreign.close();
    }
  });
});

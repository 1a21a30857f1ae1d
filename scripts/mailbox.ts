/**
 * `npm run mailbox`: a local IMAP server to try the mailbox source with, no mail account needed. It
 * starts a private Dovecot (Debian's `dovecot-imapd`: `sudo apt-get install dovecot-imapd`; nothing of
 * /etc/dovecot is read or changed) on 127.0.0.1:MAILBOX_PORT (default 10143, plain IMAP), with one user
 * whose INBOX holds MAILBOX_MESSAGES (default 40) made-up emails, and prints what to save as a
 * workspace's mailbox and the two settings the services need to reach a plain-text server on loopback.
 * Its data lives in a temporary folder removed when it stops (Ctrl-C).
 */
// relative imports on purpose: `#libs/testing` would also load the database and Nest test helpers
import { rfc822Messages } from '../libs/testing/src/email-fixtures.js';
import { PrivateDovecot } from '../libs/testing/src/private-services/private-dovecot.js';

const USER = { name: 'demo@example.test', password: 'demo-mailbox-password' };

async function main(): Promise<void> {
  const port = Number(process.env.MAILBOX_PORT ?? 10143);
  const count = Number(process.env.MAILBOX_MESSAGES ?? 40);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('MAILBOX_PORT must be a port number');
  if (!Number.isInteger(count) || count < 0 || count > 100_000) throw new Error('MAILBOX_MESSAGES must be 0 to 100000');
  const dovecot = await PrivateDovecot.start({ port, users: [USER], xoauth2: false });
  rfc822Messages(count, 5_000).forEach((message, i) =>
    dovecot.deliver(USER.name, 'INBOX', message, { receivedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000) }),
  );
  process.stdout.write(
    [
      `Mailbox server (Dovecot) listening on 127.0.0.1:${port}, plain IMAP; INBOX holds ${count} messages`,
      'Start the services with these (a loopback, plain-text server is refused otherwise):',
      'export EGRESS_ALLOWED_CIDRS=127.0.0.1/32 IMAP_ALLOW_PLAINTEXT=true',
      "Save it as a workspace's mailbox (PUT /v1/workspaces/:workspaceId/imap-source):",
      `  {"host":"127.0.0.1","port":${port},"tlsMode":"none","username":"${USER.name}","secret":"${USER.password}"}`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  const shutdown = () => void dovecot.destroy().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`Mailbox server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

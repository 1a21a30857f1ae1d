import { EXAMPLE, EXAMPLE_KEY_TRACE } from '../http/example-values.js';
import type { MailboxTestView, MailboxView } from './mailbox.dto.js';

/** Example answers of the mailbox routes (documentation only; checked against their views at load). */
export const mailboxExample: MailboxView = {
  workspaceId: EXAMPLE.workspaceId,
  host: 'imap.example.com',
  port: 993,
  tlsMode: 'implicit',
  username: 'support@example.com',
  authMethod: 'password',
  secretLast4: EXAMPLE_KEY_TRACE.last4,
  secretFingerprint: EXAMPLE_KEY_TRACE.fingerprint,
  folders: ['INBOX', 'Archive'],
  since: '2024-01-01',
  status: 'valid',
  statusCode: null,
  checkedAt: EXAMPLE.startedAt,
  updatedAt: EXAMPLE.createdAt,
};

export const mailboxTestExample: MailboxTestView = {
  status: 'valid',
  folders: [
    { name: 'INBOX', messages: 1184, uidValidity: '1709370900' },
    { name: 'Archive', messages: 5210, uidValidity: '1709370901' },
  ],
};

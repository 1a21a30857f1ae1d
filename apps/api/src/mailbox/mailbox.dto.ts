import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import type { MaskedMailbox, MailboxTest } from '#libs/mailbox';

/** Folders a mailbox may name; each backfill reads them in this order. */
export const MAX_MAILBOX_FOLDERS = 50;

/** The earliest `since` a mailbox may name. */
const EARLIEST_SINCE = '1970-01-01';

const folder = z
  .string({ error: 'each folder must be a string' })
  .trim()
  .min(1, { error: 'a folder name must not be empty' })
  .max(255, { error: 'a folder name must be at most 255 characters' })
  // IMAP mailbox names are sent as quoted strings: no control characters (RFC 3501 9, CHAR8 excludes them)
  .regex(/^[^\p{Cc}]+$/u, { error: 'a folder name must not contain control characters' });

export const putMailboxBody = z
  .strictObject({
    host: z
      .string({ error: 'host must be a string' })
      .trim()
      .min(1, { error: 'host must not be empty' })
      .max(253, { error: 'host must be at most 253 characters' })
      .meta({ example: 'imap.example.com', description: 'Host name or IP address; checked by the egress policy now and at every connection' }),
    // every check carries its own words: zod would otherwise give the type's ("port must be a number" for 0)
    port: z
      .number({ error: 'port must be a number' })
      .int({ error: 'port must be a whole number' })
      .min(1, { error: 'port must be between 1 and 65535' })
      .max(65535, { error: 'port must be between 1 and 65535' })
      .optional(),
    tlsMode: z.enum(['implicit', 'starttls', 'none'], { error: 'tlsMode must be implicit, starttls or none' }).default('implicit').meta({
      description: 'implicit: TLS from the first byte (port 993); starttls: STARTTLS required (143); none: only where the operator allows it',
    }),
    username: z
      .string({ error: 'username must be a string' })
      .trim()
      .min(1, { error: 'username must not be empty' })
      .max(320, { error: 'username must be at most 320 characters' })
      // no mailbox user name has them; imapflow refuses them in an OAuth2 exchange, and error messages name the user
      .regex(/^[^\p{Cc}]+$/u, { error: 'username must not contain control characters' }),
    authMethod: z
      .enum(['password', 'xoauth2'], { error: 'authMethod must be password or xoauth2' })
      .default('password')
      .meta({ description: 'password (LOGIN / AUTHENTICATE PLAIN) or xoauth2 (an OAuth2 access token)' }),
    secret: z
      .string({ error: 'secret must be a string' })
      .min(1, { error: 'secret must not be empty' })
      .max(8_192, { error: 'secret must be at most 8192 characters' })
      .optional()
      .meta({ description: 'The password or access token; stored encrypted, never returned. Leave it out to keep the stored one.' }),
    folders: z
      .array(folder, { error: 'folders must be an array of folder names' })
      .min(1, { error: 'folders must name at least one folder' })
      .max(MAX_MAILBOX_FOLDERS, { error: `folders must name at most ${MAX_MAILBOX_FOLDERS} folders` })
      .default(['INBOX']),
    since: z.iso
      .date({ error: 'since must be a date (YYYY-MM-DD)' })
      // no mail predates 1970; year 0000 is a valid ISO date that Postgres' date type refuses (it was a 500)
      .refine((day) => day >= EARLIEST_SINCE, { error: `since must be on or after ${EARLIEST_SINCE}` })
      .nullable()
      .optional()
      .meta({ description: 'Only messages on or after this day' }),
  })
  // an OAuth2 access token is printable ASCII (RFC 6750 b64token); imapflow refuses control characters in it
  .refine((body) => body.authMethod !== 'xoauth2' || body.secret === undefined || /^[\x21-\x7e]+$/.test(body.secret), {
    error: 'secret must be printable ASCII without spaces for authMethod xoauth2 (an OAuth2 access token)',
    path: ['secret'],
  })
  .transform((body) => ({
    ...body,
    port: body.port ?? (body.tlsMode === 'implicit' ? 993 : 143),
    since: body.since ? new Date(`${body.since}T00:00:00Z`) : null,
  }));
export type PutMailboxBody = z.output<typeof putMailboxBody>;

export const mailboxView = z.object({
  workspaceId: uuidSchema(),
  host: z.string(),
  port: z.number(),
  tlsMode: z.enum(['implicit', 'starttls', 'none']),
  username: z.string(),
  authMethod: z.enum(['password', 'xoauth2']),
  secretLast4: z.string().nullable().meta({ description: 'The last four characters of the secret' }),
  secretFingerprint: z.string().meta({ description: 'HMAC-SHA256 of the secret: tells two secrets apart without showing either' }),
  folders: z.array(z.string()),
  since: z.string().nullable().meta({ example: '2024-01-01' }),
  status: z.enum(['unknown', 'valid', 'invalid']),
  statusCode: z.string().nullable().meta({ description: 'Why it is invalid (IMAP_AUTH_FAILED)' }),
  checkedAt: z.date().nullable(),
  updatedAt: z.date(),
});
export type MailboxView = z.input<typeof mailboxView>;

export function toMailboxView(mailbox: MaskedMailbox): MailboxView {
  return { ...mailbox, since: mailbox.since ? mailbox.since.toISOString().slice(0, 10) : null };
}

export const mailboxTestView = z.object({
  status: z.literal('valid'),
  folders: z.array(z.object({ name: z.string(), messages: z.number(), uidValidity: z.string() })),
});
export type MailboxTestView = MailboxTest;

import type { Backfill, ProviderId } from './types.js';
import { apiKeySetting, PROVIDER_LABELS } from './types.js';

export interface FailureHelp {
  /** A short title for the code. */
  title: string;
  /** What to do about it. */
  fix: string;
  /** Whether the fix is on the keys page. */
  linkToKeys: boolean;
  /** Whether the fix is on the usage page (its budget section). */
  linkToUsage?: boolean;
  /** Whether the fix is on the mailbox page (the workspace's IMAP source). */
  linkToMailbox?: boolean;
}

/**
 * What a mailbox (IMAP) code means and what to do about it, for a failed backfill and for the
 * mailbox page's own answers (a connection test, a start without a mailbox); undefined for other codes.
 */
export function mailboxFailureHelp(code: string): Pick<FailureHelp, 'title' | 'fix'> | undefined {
  switch (code) {
    case 'IMAP_AUTH_FAILED':
      return {
        title: 'The mailbox refused the login',
        fix: "The user name, password or access token is wrong, expired or revoked (an OAuth2 access token lasts about an hour). Enter the mailbox's current password or a fresh token, test the connection, then start the backfill again. Nothing was fetched.",
      };
    case 'IMAP_UNAVAILABLE':
      return {
        title: 'Mailbox unreachable',
        fix: 'The mail server could not be reached, or dropped the connection, after several tries. Check the host and port; if they are right, try again later: a backfill resumes after the last message it committed.',
      };
    case 'IMAP_TLS_FAILED':
      return {
        title: 'Secure connection failed',
        fix: "The mail server's certificate was not trusted, had expired or named another host, or the server offered no STARTTLS. Check the host and the TLS mode (implicit TLS on port 993, STARTTLS on 143); a certificate from a private authority must be trusted by the platform operator (IMAP_TLS_CA_FILE).",
      };
    case 'IMAP_FOLDER_NOT_FOUND':
      return {
        title: 'Folder not found',
        fix: "A folder the mailbox names is not on the server. Correct the folders (names are case-sensitive, except INBOX; a subfolder is written with the server's separator, e.g. Archive/2024 or Archive.2024), test the connection, then start again.",
      };
    case 'IMAP_SOURCE_NOT_FOUND':
      return {
        title: 'No mailbox connected',
        fix: 'This workspace has no mailbox. Connect one (host, user name, password or token) on the Mailbox page, then start a backfill from it.',
      };
    default:
      return undefined;
  }
}

/** The setting a failure is about: named in the API's message, else the job's provider's key. */
function settingOf(message: string, provider: ProviderId | null): string {
  const named = /\b(OPENAI|GEMINI|DEEPSEEK|ANTHROPIC|AZURE_OPENAI|CUSTOM_OPENAI)_API_KEY\b/.exec(message);
  if (named) return named[0];
  return provider ? apiKeySetting(provider) : 'the provider key';
}

/** A failed backfill's code, explained, with the way out. */
export function failureHelp(job: Pick<Backfill, 'failure' | 'provider'>): FailureHelp {
  const failure = job.failure ?? { code: 'UNKNOWN', message: '' };
  const setting = settingOf(failure.message, job.provider);
  const provider = job.provider ? PROVIDER_LABELS[job.provider] : 'the provider';
  const mailbox = mailboxFailureHelp(failure.code);
  if (mailbox) return { ...mailbox, linkToKeys: false, linkToMailbox: true };
  switch (failure.code) {
    case 'NO_API_KEY':
      return { title: 'No API key', fix: `Add ${setting} on the Provider keys page, then start the backfill again.`, linkToKeys: true };
    case 'INVALID_API_KEY':
      return {
        title: 'The API key was refused',
        fix: `Replace ${setting} with a working key on the Provider keys page, validate it, then start the backfill again.`,
        linkToKeys: true,
      };
    case 'KEY_DECRYPTION_FAILED':
      return {
        title: 'The stored key cannot be read',
        fix: `Save ${setting} again on the Provider keys page, then start the backfill again.`,
        linkToKeys: true,
      };
    case 'PLATFORM_KEY_MISSING':
      // a tenant's own endpoint has no platform key at all: only BYOK keys reach it
      if (job.provider === 'azure-openai' || job.provider === 'custom-openai')
        return {
          title: 'No platform key',
          fix: `${provider} runs only with the tenant's own key and endpoint. Ask the platform operator to switch the tenant to BYOK keys, or choose another provider on the Provider keys page.`,
          linkToKeys: true,
        };
      return {
        title: 'No platform key',
        fix: `This tenant uses managed keys and the platform has none for ${provider}. Ask the platform operator to configure one, or choose another provider on the Provider keys page.`,
        linkToKeys: true,
      };
    case 'PROVIDER_NOT_CONFIGURED':
      return {
        title: 'Provider not set up',
        fix: `${provider} needs its endpoint and model as well as its key. Set what the message names on the Provider keys page, then start the backfill again.`,
        linkToKeys: true,
      };
    case 'EGRESS_REFUSED':
      return {
        title: 'Endpoint refused',
        fix: `The platform will not connect to the endpoint set for ${provider}. Set one it may reach on the Provider keys page, then start the backfill again.`,
        linkToKeys: true,
      };
    case 'PLAN_NOT_ELIGIBLE':
      return {
        title: 'Plan without knowledge graphs',
        fix: 'Ask the platform operator to move the tenant to the team or enterprise plan.',
        linkToKeys: false,
      };
    case 'RATE_LIMITED':
      return {
        title: 'Rate limited',
        fix: `${provider} kept refusing for too many requests. Wait a few minutes and start the backfill again, or raise the key's limits with ${provider}.`,
        linkToKeys: false,
      };
    case 'PROVIDER_UNAVAILABLE':
      return { title: 'Provider unavailable', fix: `${provider} did not answer. Try again later.`, linkToKeys: false };
    case 'EXTRACTION_FAILING':
      return {
        title: 'Too many records failed',
        fix: 'The backfill stopped so as not to spend more on answers that cannot be used. Look at the failed records below, fix the cause (often another provider, chosen on the Provider keys page), then retry them.',
        linkToKeys: false,
      };
    case 'BUDGET_EXCEEDED':
      return {
        title: 'Budget spent',
        fix: "The tenant's hard budget (or the per-job cap) stopped the backfill before it spent more. Raise the budget, or wait for next month (UTC), then start the backfill again: it resumes from its checkpoint.",
        linkToKeys: false,
        linkToUsage: true,
      };
    case 'WORKSPACE_NOT_FOUND':
      return { title: 'Workspace not found', fix: 'The workspace was removed or moved to another tenant.', linkToKeys: false };
    default:
      return {
        title: 'Backfill failed',
        fix: 'Start the backfill again. If it fails the same way, contact support with the job id.',
        linkToKeys: false,
      };
  }
}

/** Why one record failed, and what to do about it, by the code stored with it. */
export function recordFailureHelp(code: string): { title: string; fix: string } {
  switch (code) {
    case 'EXTRACTION_REFUSED':
      return { title: 'The model refused', fix: 'Retry them; if the model refuses again, choose another provider on the Provider keys page.' };
    case 'CONTENT_BLOCKED':
      return {
        title: "Blocked by the provider's safety filter",
        fix: 'The same provider will block them again: choose another provider on the Provider keys page, then retry.',
      };
    case 'EXTRACTION_TRUNCATED':
      return {
        title: 'The answer was cut off',
        fix: "The answer ran past the model's output limit even for small parts of the text: retry with another provider.",
      };
    case 'EXTRACTION_UNPARSABLE':
      return { title: 'The answer was not JSON', fix: 'Retry them: a model usually answers in the right form on another try.' };
    case 'EXTRACTION_INVALID':
      return { title: 'The answer had the wrong shape', fix: 'Retry them: a model usually answers in the right form on another try.' };
    default:
      return { title: 'The record could not be extracted', fix: 'Retry them; if they fail the same way, contact support with the job id.' };
  }
}

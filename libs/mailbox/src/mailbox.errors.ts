import { AppError, ErrorCode, NotFoundError } from '#libs/common';

/** The workspace has no mailbox connected (IMAP_SOURCE_NOT_FOUND, 404). */
export class ImapSourceNotFoundError extends NotFoundError {
  constructor(workspaceId: string) {
    super(
      `Workspace ${workspaceId} has no mailbox connected. Add one with PUT /v1/workspaces/${workspaceId}/imap-source.`,
      ErrorCode.ImapSourceNotFound,
    );
  }
}

/**
 * The mailbox refused the login (IMAP_AUTH_FAILED, 422): the source is marked invalid and a backfill
 * fails at once, before any message is fetched. Names the host and user, never the secret.
 */
export class ImapAuthFailedError extends AppError {
  /** `reason`: why no login could be tried (e.g. the server offers no OAuth2 sign-in); a plain refusal has none. */
  constructor(host: string, username: string, reason?: string) {
    super(
      ErrorCode.ImapAuthFailed,
      reason
        ? `The mailbox at ${host} cannot sign in ${username}: ${reason}. Change the sign-in method of the workspace's mailbox.`
        : `The mailbox at ${host} refused the login of ${username}. Update the password or token of the workspace's mailbox.`,
    );
  }
}

/** The mailbox could not be reached or dropped the connection (IMAP_UNAVAILABLE): worth trying again later. */
export class ImapUnavailableError extends AppError {
  constructor(
    host: string,
    readonly reason: string,
  ) {
    super(ErrorCode.ImapUnavailable, `The mailbox at ${host} is unavailable: ${reason}.`);
  }
}

/** The TLS handshake failed (IMAP_TLS_FAILED, 422): an untrusted or expired certificate, a wrong name, no STARTTLS. */
export class ImapTlsFailedError extends AppError {
  constructor(host: string, reason: string) {
    super(ErrorCode.ImapTlsFailed, `TLS with the mailbox at ${host} failed: ${reason}.`);
  }
}

/** A folder the source names is not on the server (IMAP_FOLDER_NOT_FOUND, 422). */
export class ImapFolderNotFoundError extends AppError {
  constructor(folder: string) {
    super(ErrorCode.ImapFolderNotFound, `The mailbox has no folder "${folder}". Change the folders of the workspace's mailbox.`);
  }
}

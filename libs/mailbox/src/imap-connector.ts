import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { AppError } from '#libs/common';
import { AppConfig } from '#libs/config';
import { EgressPolicy, egressLookup, EgressRefusedError } from '#libs/egress';
import { ImapAuthFailedError, ImapTlsFailedError, ImapUnavailableError } from './mailbox.errors.js';

/** TLS from the first byte (993), STARTTLS required (143), or none (only with IMAP_ALLOW_PLAINTEXT). */
export type ImapTlsMode = 'implicit' | 'starttls' | 'none';
/** A password (LOGIN or AUTHENTICATE PLAIN) or an OAuth2 access token (AUTHENTICATE XOAUTH2). */
export type ImapAuthMethod = 'password' | 'xoauth2';

/** Everything a connection to a workspace's mailbox needs, the secret opened. Never logged, never returned. */
export interface MailboxAccess {
  host: string;
  port: number;
  tlsMode: ImapTlsMode;
  username: string;
  authMethod: ImapAuthMethod;
  secret: string;
}

/** The longest line a server may send (bytes): a SEARCH answer of tens of thousands of UIDs, far past any status line. */
const MAX_LINE_BYTES = 4 * 1024 * 1024;

/** The capabilities under which imapflow sends an OAuth2 access token (AUTHENTICATE OAUTHBEARER or XOAUTH2). */
const OAUTH_CAPABILITIES = ['AUTH=OAUTHBEARER', 'AUTH=XOAUTH2', 'AUTH=XOAUTH'];

// Node's codes for a certificate it would not trust, and what to tell the tenant
const CERTIFICATE_WORDS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server presented a self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chain ends in an untrusted self-signed certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate is not signed by a trusted authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate is not signed by a trusted authority',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is for another host name',
};

/**
 * Connects to tenants' mailboxes through imapflow, under the egress policy: the host is checked
 * (an IP literal must be allowed) and every address its name resolves to is checked when the socket
 * connects (egressLookup), so a mailbox cannot point the worker at private, loopback or metadata
 * addresses. TLS is verified against the system's authorities plus IMAP_TLS_CA_FILE; plain text only
 * with IMAP_ALLOW_PLAINTEXT. Failures are typed: a refused login, a TLS failure, an unreachable server.
 */
@Injectable()
export class ImapConnector {
  private readonly ca: string[] | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly egress: EgressPolicy,
  ) {
    this.ca = config.imap.tlsCa ? [...rootCertificates, config.imap.tlsCa] : undefined;
  }

  /**
   * A logged-in connection, after up to IMAP_MAX_ATTEMPTS tries with exponential backoff for an
   * unreachable server (a refused login, a TLS failure or an egress refusal is never retried);
   * `once`: one try, for a caller that retries around more than the connection.
   * @throws ImapAuthFailedError, ImapTlsFailedError, ImapUnavailableError, EgressRefusedError
   */
  async connect(access: MailboxAccess, once = false): Promise<ImapFlow> {
    if (once) return this.connectOnce(access).catch((error: unknown) => Promise.reject(this.classify(error, access)));
    return this.withRetries(access, () => this.connectOnce(access));
  }

  /**
   * Runs `operation` until it succeeds or fails for good: an ImapUnavailableError is tried again
   * after IMAP_RETRY_BASE_MS x 2^(n-1), up to IMAP_MAX_ATTEMPTS tries; anything else is thrown at once.
   */
  async withRetries<T>(access: Pick<MailboxAccess, 'host' | 'username'>, operation: () => Promise<T>): Promise<T> {
    const { maxAttempts, retryBaseMs } = this.config.imap;
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        const typed = this.classify(error, access);
        if (!(typed instanceof ImapUnavailableError) || attempt >= maxAttempts) throw typed;
        await sleep(retryBaseMs * 2 ** (attempt - 1));
      }
    }
  }

  private async connectOnce(access: MailboxAccess): Promise<ImapFlow> {
    if (access.tlsMode === 'none' && !this.config.imap.allowPlaintext) {
      throw new ImapTlsFailedError(access.host, 'this server does not connect to mailboxes without TLS (IMAP_ALLOW_PLAINTEXT)');
    }
    const host = this.egress.checkHost(access.host);
    const client = new ImapFlow(this.options(access, host));
    // a connection error after connect() settled must not become an unhandled 'error' event
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      // imapflow sends a token only by a mechanism the server announced, and fails with a bare Error
      // otherwise: that is a sign-in the server will never take, not an unreachable server to retry
      const greeted = client.capabilities.size > 0;
      const noOauth = access.authMethod === 'xoauth2' && greeted && !OAUTH_CAPABILITIES.some((c) => client.capabilities.has(c));
      client.close();
      if (noOauth && !(error as { authenticationFailed?: boolean }).authenticationFailed) {
        throw new ImapAuthFailedError(access.host, access.username, 'the server offers no OAuth2 sign-in (AUTH=XOAUTH2 or AUTH=OAUTHBEARER)');
      }
      throw error;
    }
  }

  private options(access: MailboxAccess, host: string): ImapFlowOptions {
    const timeout = this.config.imap.timeoutMs;
    return {
      host,
      port: access.port,
      secure: access.tlsMode === 'implicit',
      doSTARTTLS: access.tlsMode === 'starttls' ? true : access.tlsMode === 'none' ? false : undefined,
      auth: access.authMethod === 'xoauth2' ? { user: access.username, accessToken: access.secret } : { user: access.username, pass: access.secret },
      tls: { lookup: egressLookup(this.egress), rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(this.ca ? { ca: this.ca } : {}) },
      logger: false,
      emitLogs: false,
      disableAutoIdle: true,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      // no byte for this long ends the connection, whatever command waits: a silent server never holds
      // a request or a job longer; a connection idle while a page is extracted is reconnected for the next
      socketTimeout: timeout,
      clientInfo: { name: 'byok-llm-backend' },
      // a message larger than this is never requested whole (see ImapRecordSource); a hostile server's
      // announced literal past it ends the connection before it is read
      maxLiteralSize: this.config.ingest.maxMessageBytes * 2,
      // imapflow's defaults (a 1 GiB line, a 2 GiB response) would let one tenant's server fill a shared
      // process's memory: a line holds at most a window of UIDs, a response one message and its framing
      maxLineLength: MAX_LINE_BYTES,
      maxResponseSize: this.config.ingest.maxMessageBytes * 2 + MAX_LINE_BYTES,
    };
  }

  /** An imapflow or socket failure as the typed error it means; never the server's own words. */
  classify(error: unknown, access: Pick<MailboxAccess, 'host' | 'username'>): AppError {
    if (error instanceof AppError) return error;
    const { host } = access;
    const failure = error as { code?: string; authenticationFailed?: boolean; tlsFailed?: boolean; _err?: unknown; cause?: unknown };
    const inner = failure._err ?? failure.cause;
    if (inner instanceof EgressRefusedError) return inner;
    // a user name or token the protocol cannot carry (imapflow refuses it before sending): it can never log in
    if (failure.authenticationFailed || failure.code === 'InvalidStringValue') return new ImapAuthFailedError(host, access.username);
    const code = failure.code ?? (inner as { code?: string } | undefined)?.code ?? '';
    if (code in CERTIFICATE_WORDS) return new ImapTlsFailedError(host, CERTIFICATE_WORDS[code]);
    if (failure.tlsFailed || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code === 'EPROTO') {
      return new ImapTlsFailedError(host, 'the TLS handshake failed');
    }
    return new ImapUnavailableError(host, unavailableWords(code));
  }
}

function unavailableWords(code: string): string {
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name could not be resolved';
  if (code === 'ETIMEDOUT' || code.includes('TIMEOUT')) return 'it did not answer in time';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'NoConnection' || code === 'EConnectionClosed') return 'the connection was closed';
  return 'the connection failed';
}

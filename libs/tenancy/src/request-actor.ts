/**
 * Who made a change and from where, as the API saw the request: the platform admin, or a tenant token
 * (its id and a label). Controllers build it from the authenticated principal, the socket address
 * and the User-Agent header and pass it explicitly (no request-scoped providers).
 */
export interface RequestActor {
  kind: 'platform' | 'tenant_token';
  /** tenant_tokens.id for a tenant token, null for the platform admin */
  tokenId: string | null;
  /** a human label: "platform admin", or the token's name (or "token <id prefix>") */
  label: string;
  /** the client's socket address (IPv4 or IPv6 text), null when unknown */
  clientAddress: string | null;
  /** the User-Agent header, cut to USER_AGENT_MAX_CHARS; null when absent */
  userAgent: string | null;
}

/** The longest User-Agent kept (characters); the column is varchar(256). */
export const USER_AGENT_MAX_CHARS = 256;

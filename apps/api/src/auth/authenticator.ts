import { Injectable } from '@nestjs/common';
import { type AuthAttempt, type AuthenticatedToken, RateLimitsService, TenantTokenService } from '#libs/tenancy';
import { AdminToken } from './admin-token.js';
import type { Principal } from './principal.js';

/** How an Authorization header may carry a token: a bearer token always; Basic (the token as its password) where a browser must send it. */
export interface CredentialForms {
  basic?: boolean;
}

/**
 * Who an Authorization header belongs to: the platform admin, a tenant's token, or nobody. Failed
 * authentications are counted per client address and per token prefix; past either limit a token is
 * refused 429 before any lookup, unless this process can vouch for it without one (the admin token, a
 * tenant token it authenticated in the last seconds). Shared by the global guard and the queue board.
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly tokens: TenantTokenService,
    private readonly adminToken: AdminToken,
    private readonly limits: RateLimitsService,
  ) {}

  /**
   * The principal of `header` sent from `address`; null when there is none or it is not valid.
   * @throws TooManyAuthFailuresError (429) when the address or the token prefix is over its limit
   */
  async principalOf(header: string | undefined, address: string, forms: CredentialForms = {}): Promise<Principal | null> {
    // no token at all guesses nothing and costs no lookup: refused 401 without counting
    if (header === undefined) return null;
    const token = tokenIn(header, forms);
    const attempt: AuthAttempt = { address, token: token ?? header };
    const known = this.knownWithoutLookup(attempt.token);
    if (known) return known;
    // counted as a failure before the lookup, handed back on success: the limit holds however many are in flight
    await this.limits.reserveAuthAttempt(attempt);
    const found = token ? await this.tokens.authenticate(attempt.token) : null;
    if (!found) return null;
    await this.limits.releaseAuthAttempt(attempt);
    return tenantPrincipal(found);
  }

  /** A principal proven in process (constant-time admin digest, or a cached tenant token): no limit applies to it. */
  private knownWithoutLookup(token: string): Principal | null {
    if (this.adminToken.matches(token)) return { kind: 'platform' };
    const found = this.tokens.authenticateKnown(token);
    return found ? tenantPrincipal(found) : null;
  }
}

/** The token of a bearer header (RFC 6750 section 2.1), or of a Basic one's password (RFC 7617) when allowed. */
function tokenIn(header: string, forms: CredentialForms): string | undefined {
  const bearer = /^Bearer ([\x21-\x7e]{1,256})$/.exec(header);
  if (bearer) return bearer[1];
  const basic = forms.basic ? /^Basic ([A-Za-z0-9+/]{1,400}={0,2})$/.exec(header) : null;
  if (!basic) return undefined;
  const pair = Buffer.from(basic[1], 'base64').toString('utf8');
  const password = pair.slice(pair.indexOf(':') + 1);
  return pair.includes(':') && /^[\x21-\x7e]{1,256}$/.test(password) ? password : undefined;
}

function tenantPrincipal(token: AuthenticatedToken): Principal {
  return { kind: 'tenant', tenantId: token.tenantId, tokenId: token.tokenId, tokenName: token.name, scope: token.scope };
}

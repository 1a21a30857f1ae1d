import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type AuthAttempt, type AuthenticatedToken, RateLimitsService, TenantTokenService } from '#libs/tenancy';
import { AdminToken } from './admin-token.js';
import { ForbiddenError, TokenReadOnlyError, UnauthenticatedError } from './auth.errors.js';
import { ADMIN_SCOPE, type AuthenticatedRequest, IS_PUBLIC, PLATFORM_ONLY, type Principal } from './principal.js';

/** Methods that change something (RFC 9110 section 9.2.1: not safe), counted against a tenant's write limit. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Global guard: every route needs a bearer token unless marked @Public(). Failed authentications are
 * counted per client address and per token prefix; past either limit a token is refused 429 before any
 * lookup, unless this process can vouch for it without one (the admin token, a tenant token it
 * authenticated in the last seconds). A read-scope token may not write (403 TOKEN_READ_ONLY); a
 * tenant's writes are counted against its own limit.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TenantTokenService,
    private readonly adminToken: AdminToken,
    private readonly limits: RateLimitsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.authenticate(request);
    if (!principal) throw new UnauthenticatedError();
    if (principal.kind !== 'platform' && this.reflector.getAllAndOverride<boolean>(PLATFORM_ONLY, targets)) {
      throw new ForbiddenError();
    }
    if (principal.kind === 'tenant') {
      const writes = WRITE_METHODS.has(request.method);
      if (principal.scope === 'read' && (writes || this.reflector.getAllAndOverride<boolean>(ADMIN_SCOPE, targets))) throw new TokenReadOnlyError();
      if (writes) await this.limits.consumeWrite(principal.tenantId);
    }
    request.principal = principal;
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Principal | null> {
    const header = request.headers.authorization;
    // no token at all guesses nothing and costs no lookup: refused 401 without counting
    if (header === undefined) return null;
    const match = /^Bearer ([\x21-\x7e]{1,256})$/.exec(header);
    const attempt: AuthAttempt = { address: request.ip ?? request.socket.remoteAddress ?? 'unknown', token: match?.[1] ?? header };
    const known = this.knownWithoutLookup(attempt.token);
    if (known) return known;
    // counted as a failure before the lookup, handed back on success: the limit holds however many are in flight
    await this.limits.reserveAuthAttempt(attempt);
    const found = match ? await this.tokens.authenticate(attempt.token) : null;
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

function tenantPrincipal(token: AuthenticatedToken): Principal {
  return { kind: 'tenant', tenantId: token.tenantId, tokenId: token.tokenId, tokenName: token.name, scope: token.scope };
}

import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MetricsToken } from '#libs/metrics';
import { RateLimitsService } from '#libs/tenancy';
import { Authenticator } from './authenticator.js';
import { ForbiddenError, TokenReadOnlyError, UnauthenticatedError } from './auth.errors.js';
import { ADMIN_SCOPE, type AuthenticatedRequest, IS_PUBLIC, METRICS_READER, PLATFORM_ONLY } from './principal.js';

/** Methods that change something (RFC 9110 section 9.2.1: not safe), counted against a tenant's write limit. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Global guard: every route needs a bearer token unless marked @Public(). Failed authentications are
 * counted and limited (Authenticator). A read-scope token may not write (403 TOKEN_READ_ONLY); a
 * tenant's writes are counted against its own limit. A route marked @MetricsReader() also takes the
 * metrics token (METRICS_TOKEN), which opens nothing else.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly limits: RateLimitsService,
    private readonly metricsToken: MetricsToken,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.reflector.getAllAndOverride<boolean>(METRICS_READER, targets) && this.metricsToken.inHeader(request.headers.authorization)) return true;
    const principal = await this.authenticator.principalOf(request.headers.authorization, request.ip ?? request.socket.remoteAddress ?? 'unknown');
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
}

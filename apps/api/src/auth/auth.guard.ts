import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TenantTokenService } from '#libs/tenancy';
import { AdminToken } from './admin-token.js';
import { ForbiddenError, UnauthenticatedError } from './auth.errors.js';
import { type AuthenticatedRequest, IS_PUBLIC, PLATFORM_ONLY, type Principal } from './principal.js';

/** Global guard: every route needs a bearer token unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TenantTokenService,
    private readonly adminToken: AdminToken,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.authenticate(request.headers.authorization);
    if (!principal) throw new UnauthenticatedError();
    if (principal.kind !== 'platform' && this.reflector.getAllAndOverride<boolean>(PLATFORM_ONLY, targets)) {
      throw new ForbiddenError();
    }
    request.principal = principal;
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Principal | null> {
    const match = /^Bearer ([\x21-\x7e]{1,256})$/.exec(header ?? '');
    if (!match) return null;
    const token = match[1];
    if (this.adminToken.matches(token)) return { kind: 'platform' };
    const found = await this.tokens.authenticate(token);
    return found ? { kind: 'tenant', tenantId: found.tenantId, tokenId: found.tokenId } : null;
  }
}

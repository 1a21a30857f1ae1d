import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '#libs/config';
import { TenantTokenService } from '#libs/tenancy';
import { ForbiddenError, UnauthenticatedError } from './auth.errors.js';
import { type AuthenticatedRequest, IS_PUBLIC, PLATFORM_ONLY, type Principal } from './principal.js';

/** Global guard: every route needs a bearer token unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly adminTokenDigest: Buffer | undefined;

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TenantTokenService,
    config: AppConfig,
  ) {
    this.adminTokenDigest = config.adminApiToken ? digest(config.adminApiToken) : undefined;
  }

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
    // compare digests so the comparison takes the same time whatever the token's length
    if (this.adminTokenDigest && timingSafeEqual(digest(token), this.adminTokenDigest)) return { kind: 'platform' };
    const tenantId = await this.tokens.authenticate(token);
    return tenantId ? { kind: 'tenant', tenantId } : null;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TenantService } from './tenant.service.js';
import { TenantTokenRepository } from './tenant-token.repository.js';

const TOKEN_PREFIX = 'tt_';

/** Tenant admin tokens: 256 random bits, shown once, kept only as a SHA-256 (enough for random tokens). */
@Injectable()
export class TenantTokenService {
  constructor(
    private readonly tokens: TenantTokenRepository,
    private readonly tenants: TenantService,
  ) {}

  async issue(tenantId: string): Promise<string> {
    await this.tenants.get(tenantId);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.tokens.create(tenantId, hashToken(token));
    return token;
  }

  /** The tenant a token belongs to, or null for anything unknown or revoked. */
  async authenticate(token: string): Promise<string | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return null;
    return this.tokens.findActiveTenantId(hashToken(token));
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

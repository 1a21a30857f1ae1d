import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { CacheInvalidationBus, InvalidatedCache } from '#libs/redis';
import { TenantService } from './tenant.service.js';
import { TenantTokenRepository } from './tenant-token.repository.js';

const TOKEN_PREFIX = 'tt_';
// every request carries a token: caching briefly spares Postgres one query per request; a revoke
// (none exists yet) would invalidate by hash on this topic, and 10 s bounds staleness without Redis
const TOKEN_TOPIC = 'tenant-token';
const TOKEN_CACHE_OPTIONS = { max: 10_000, ttlMs: 10_000 };

/** Tenant admin tokens: 256 random bits, shown once, kept only as a SHA-256 (enough for random tokens). */
@Injectable()
export class TenantTokenService {
  // keyed by the token's SHA-256, never by the token; unknown tokens are not kept, so guessing fills nothing
  private readonly tenantOfToken: InvalidatedCache<string>;

  constructor(
    private readonly tokens: TenantTokenRepository,
    private readonly tenants: TenantService,
    bus: CacheInvalidationBus,
  ) {
    this.tenantOfToken = new InvalidatedCache(bus, TOKEN_TOPIC, TOKEN_CACHE_OPTIONS);
  }

  async issue(tenantId: string): Promise<string> {
    await this.tenants.get(tenantId);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.tokens.create(tenantId, hashToken(token));
    return token;
  }

  /** The tenant a token belongs to, or null for anything unknown or revoked; a known token is cached for 10 s. */
  async authenticate(token: string): Promise<string | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return null;
    const hash = hashToken(token);
    return this.tenantOfToken.get(hash, () => this.tokens.findActiveTenantId(hash));
  }

  /**
   * The tenant of a token this process authenticated within the cache's lifetime (10 s), without any
   * lookup: null for any other. Lets a valid token through while its address is over the failed-auth
   * limit, when looking tokens up is exactly what the limit refuses.
   */
  authenticateKnown(token: string): string | null {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return null;
    return this.tenantOfToken.peek(hashToken(token)) ?? null;
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

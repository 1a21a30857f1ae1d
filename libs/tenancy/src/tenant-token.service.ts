import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TransactionService } from '#libs/database';
import { CacheInvalidationBus, InvalidatedCache } from '#libs/redis';
import { AuditLog } from './audit-log.service.js';
import type { RequestActor } from './request-actor.js';
import { TenantService } from './tenant.service.js';
import { TenantTokenRepository } from './tenant-token.repository.js';

const TOKEN_PREFIX = 'tt_';
// every request carries a token: caching briefly spares Postgres one query per request; a revoke
// (none exists yet) would invalidate by hash on this topic, and 10 s bounds staleness without Redis
const TOKEN_TOPIC = 'tenant-token';
const TOKEN_CACHE_OPTIONS = { max: 10_000, ttlMs: 10_000 };

/** A token that authenticated: its tenant and its row id (tenant_tokens.id, for the audit log). */
export interface AuthenticatedToken {
  tenantId: string;
  tokenId: string;
}

/** Tenant admin tokens: 256 random bits, shown once, kept only as a SHA-256 (enough for random tokens). */
@Injectable()
export class TenantTokenService {
  // keyed by the token's SHA-256, never by the token; unknown tokens are not kept, so guessing fills nothing
  private readonly tenantOfToken: InvalidatedCache<AuthenticatedToken>;

  constructor(
    private readonly tokens: TenantTokenRepository,
    private readonly tenants: TenantService,
    private readonly transactions: TransactionService,
    private readonly audit: AuditLog,
    bus: CacheInvalidationBus,
  ) {
    this.tenantOfToken = new InvalidatedCache(bus, TOKEN_TOPIC, TOKEN_CACHE_OPTIONS);
  }

  /**
   * Mints a token for the tenant (shown once). With an `actor` (every API call) the audit row
   * `token.create` commits in the same transaction as the token; scripts and benchmarks pass none.
   * @throws TenantNotFoundError when the tenant does not exist
   */
  async issue(tenantId: string, actor?: RequestActor): Promise<string> {
    await this.tenants.get(tenantId);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.transactions.run(async (tx) => {
      const tokenId = await this.tokens.create(tenantId, hashToken(token), tx);
      if (actor) await this.audit.record(tenantId, actor, { action: 'token.create', details: { tokenId } }, tx);
    });
    return token;
  }

  /** The tenant and row id of a token, or null for anything unknown or revoked; a known token is cached for 10 s. */
  async authenticate(token: string): Promise<AuthenticatedToken | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return null;
    const hash = hashToken(token);
    return this.tenantOfToken.get(hash, () => this.tokens.findActive(hash));
  }

  /**
   * The tenant of a token this process authenticated within the cache's lifetime (10 s), without any
   * lookup: null for any other. Lets a valid token through while its address is over the failed-auth
   * limit, when looking tokens up is exactly what the limit refuses.
   */
  authenticateKnown(token: string): AuthenticatedToken | null {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return null;
    return this.tenantOfToken.peek(hashToken(token)) ?? null;
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

import { createHash, randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '#libs/config';
import { type TenantToken, TokenScope, TransactionService, type Tx } from '#libs/database';
import { CacheInvalidationBus, InvalidatedCache } from '#libs/redis';
import { AuditLog } from './audit-log.service.js';
import type { RequestActor } from './request-actor.js';
import { TokenNotFoundError, TokenRevokedError } from './tenancy.errors.js';
import { TenantService } from './tenant.service.js';
import { type ActiveTokenRow, TenantTokenRepository } from './tenant-token.repository.js';

const TOKEN_PREFIX = 'tt_';
// "tt_" and 8 of the 43 base64url characters: 48 of 256 random bits, enough to tell tokens apart
const DISPLAY_PREFIX_CHARS = TOKEN_PREFIX.length + 8;
const DAY_MS = 86_400_000;
/** Lifetime of a token when its creator names none (days). */
export const DEFAULT_TOKEN_DAYS = 90;
/** The longest lifetime a token may be given (days): no token lives for ever. */
export const MAX_TOKEN_DAYS = 365;
// every request carries a token: caching briefly spares Postgres one query per request; a revoke
// invalidates by hash on this topic in every process, and TOKEN_CACHE_TTL_MS bounds staleness while
// Redis is away (a reconnect drops every entry, since pub/sub messages sent meanwhile are lost)
const TOKEN_TOPIC = 'tenant-token';
const TOKEN_CACHE_MAX = 10_000;
// last_used_at is a hint for humans ("unused for months?"): one write per token per minute per process
const TOUCH_INTERVAL_MS = 60_000;
const LIST_LIMIT = 200;

/** A token that authenticated: its tenant, row id (tenant_tokens.id), name and scope. */
export interface AuthenticatedToken {
  tenantId: string;
  tokenId: string;
  name: string;
  scope: TokenScope;
}

/** What the creator of a token chooses. */
export interface TokenSpec {
  /** 1..100 characters */
  name: string;
  scope: TokenScope;
  /** 1..MAX_TOKEN_DAYS */
  expiresInDays: number;
}

/** A token as lists show it: never the token, only its first characters. */
export interface TokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  /** "tt_" and the next 8 characters; null for tokens minted before prefixes were kept */
  prefix: string | null;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A freshly minted token: the secret (shown once) and its description. */
export interface IssuedToken {
  token: string;
  info: TokenInfo;
}

const DEFAULT_SPEC: TokenSpec = { name: 'token', scope: TokenScope.admin, expiresInDays: DEFAULT_TOKEN_DAYS };

/**
 * Tenant tokens: 256 random bits, shown once, kept only as a SHA-256 (enough for random tokens).
 * Each has a name, a scope (admin | read), an expiry and a last-used time; revoking one takes
 * effect at once in every API process (cache invalidation over Redis pub/sub).
 */
@Injectable()
export class TenantTokenService {
  private readonly logger = new Logger(TenantTokenService.name);
  // keyed by the token's SHA-256, never by the token; unknown tokens are not kept, so guessing fills nothing
  private readonly byHash: InvalidatedCache<ActiveTokenRow>;
  private readonly cacheTokens: boolean;
  private readonly lastTouched = new LRUCache<string, number>({ max: 10_000 });

  constructor(
    private readonly tokens: TenantTokenRepository,
    private readonly tenants: TenantService,
    private readonly transactions: TransactionService,
    private readonly audit: AuditLog,
    bus: CacheInvalidationBus,
    config: AppConfig,
  ) {
    // lru-cache reads ttl 0 as "no expiry": 0 means "never cache" here, so nothing is kept at all
    this.byHash = new InvalidatedCache(bus, TOKEN_TOPIC, { max: TOKEN_CACHE_MAX, ttlMs: Math.max(1, config.tokenCacheTtlMs) });
    this.cacheTokens = config.tokenCacheTtlMs > 0;
  }

  /**
   * Mints a token for the tenant (the secret is in the answer only). With an `actor` (every API call)
   * the audit row `token.create` commits in the same transaction; scripts and benchmarks pass none.
   * `spec` defaults: name "token", scope admin, DEFAULT_TOKEN_DAYS.
   * @throws TenantNotFoundError when the tenant does not exist
   */
  async issue(tenantId: string, spec: Partial<TokenSpec> = {}, actor?: RequestActor): Promise<IssuedToken> {
    await this.tenants.get(tenantId);
    const full = { ...DEFAULT_SPEC, ...spec };
    return this.transactions.run(async (tx) => {
      const issued = await this.mint(tenantId, full, tx);
      if (actor) await this.audit.record(tenantId, actor, { action: 'token.create', details: auditDetails(issued.info) }, tx);
      return issued;
    });
  }

  /** The tenant's tokens, newest first, at most 200 (revoked and expired included). */
  async list(tenantId: string): Promise<TokenInfo[]> {
    return (await this.tokens.list(tenantId, LIST_LIMIT)).map(toInfo);
  }

  /**
   * Revokes a token of the tenant: refused at once here and, as soon as Redis delivers the message,
   * in every other API process (within 10 s without Redis). Revoking twice is not an error.
   * @throws TokenNotFoundError when the tenant has no such token
   */
  async revoke(tenantId: string, tokenId: string, actor: RequestActor): Promise<void> {
    const row = await this.transactions.run(async (tx) => {
      const found = await this.tokens.findForUpdate(tenantId, tokenId, tx);
      if (!found) throw new TokenNotFoundError(tokenId);
      if (found.revokedAt === null) {
        await this.tokens.revoke(tenantId, tokenId, new Date(), tx);
        await this.audit.record(tenantId, actor, { action: 'token.revoke', details: auditDetails(toInfo(found)) }, tx);
      }
      return found;
    });
    await this.byHash.invalidate(row.tokenHash);
  }

  /**
   * Replaces a token with a new one of the same name and scope, revoking the old one in the same
   * transaction. The new token lives `expiresInDays` (default: as long as the old one was given).
   * @throws TokenNotFoundError when the tenant has no such token
   * @throws TokenRevokedError when the token is already revoked
   */
  async rotate(tenantId: string, tokenId: string, actor: RequestActor, expiresInDays?: number): Promise<IssuedToken> {
    const { issued, oldHash } = await this.transactions.run(async (tx) => {
      const old = await this.tokens.findForUpdate(tenantId, tokenId, tx);
      if (!old) throw new TokenNotFoundError(tokenId);
      if (old.revokedAt !== null) throw new TokenRevokedError(tokenId);
      const days = expiresInDays ?? lifetimeDays(old);
      await this.tokens.revoke(tenantId, tokenId, new Date(), tx);
      const minted = await this.mint(tenantId, { name: old.name, scope: old.scope, expiresInDays: days }, tx);
      await this.audit.record(tenantId, actor, { action: 'token.rotate', details: { ...auditDetails(minted.info), replacedTokenId: tokenId } }, tx);
      return { issued: minted, oldHash: old.tokenHash };
    });
    await this.byHash.invalidate(oldHash);
    return issued;
  }

  /**
   * The token's tenant, id, name and scope, or null for anything unknown, revoked or expired. A known
   * token is cached for 10 s (and dropped at once by a revoke in any process).
   */
  async authenticate(token: string): Promise<AuthenticatedToken | null> {
    if (!isWellFormed(token)) return null;
    const hash = hashToken(token);
    const lookup = () => this.tokens.findActiveByHash(hash, new Date());
    const row = this.cacheTokens ? await this.byHash.get(hash, lookup) : await lookup();
    return this.used(row);
  }

  /**
   * The token as this process authenticated it within the cache's lifetime (10 s), without any
   * lookup: null for any other. Lets a valid token through while its address is over the failed-auth
   * limit, when looking tokens up is exactly what the limit refuses.
   */
  authenticateKnown(token: string): AuthenticatedToken | null {
    if (!isWellFormed(token)) return null;
    return this.used(this.byHash.peek(hashToken(token)) ?? null);
  }

  private async mint(tenantId: string, spec: TokenSpec, tx: Tx): Promise<IssuedToken> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + spec.expiresInDays * DAY_MS);
    const row = await this.tokens.create(
      tenantId,
      { tokenHash: hashToken(token), name: spec.name, scope: spec.scope, prefix: token.slice(0, DISPLAY_PREFIX_CHARS), expiresAt },
      tx,
    );
    return { token, info: toInfo(row) };
  }

  // an entry cached before its expiry passed is refused from that instant, not 10 s later
  private used(row: ActiveTokenRow | null): AuthenticatedToken | null {
    if (!row || row.expiresAt.getTime() <= Date.now()) return null;
    this.touch(row);
    return { tenantId: row.tenantId, tokenId: row.tokenId, name: row.name, scope: row.scope };
  }

  private touch(row: ActiveTokenRow): void {
    const now = Date.now();
    if (now - (this.lastTouched.get(row.tokenId) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.lastTouched.set(row.tokenId, now);
    // a hint, never worth failing or slowing the request for
    this.tokens.touch(row.tenantId, row.tokenId, new Date(now)).catch((error: unknown) => {
      this.lastTouched.delete(row.tokenId);
      this.logger.warn(`last_used_at not recorded for token ${row.tokenId}: ${(error as Error).message}`);
    });
  }
}

function isWellFormed(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX) && token.length <= 128;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function lifetimeDays(row: TenantToken): number {
  const days = Math.round((row.expiresAt.getTime() - row.createdAt.getTime()) / DAY_MS);
  return Math.min(MAX_TOKEN_DAYS, Math.max(1, days));
}

function toInfo(row: TenantToken): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    prefix: row.prefix,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

function auditDetails(info: TokenInfo): Record<string, string> {
  return { tokenId: info.id, name: info.name, scope: info.scope, expiresAt: info.expiresAt.toISOString() };
}

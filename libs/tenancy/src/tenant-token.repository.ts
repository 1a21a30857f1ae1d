import { Injectable } from '@nestjs/common';
import { PrismaService, type TenantToken, type TokenScope, type Tx } from '#libs/database';

/** What a token row holds besides its hash. */
export interface NewTokenRow {
  tokenHash: string;
  name: string;
  scope: TokenScope;
  prefix: string;
  expiresAt: Date;
}

/** A live token as authentication needs it. */
export interface ActiveTokenRow {
  tenantId: string;
  tokenId: string;
  name: string;
  scope: TokenScope;
  expiresAt: Date;
}

/** tenant_tokens: every method but the hash lookup takes the tenant id first and filters on it. */
@Injectable()
export class TenantTokenRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts a token (inside `tx` when given) and returns the row. */
  create(tenantId: string, row: NewTokenRow, tx?: Tx): Promise<TenantToken> {
    return (tx ?? this.prisma).tenantToken.create({ data: { tenantId, ...row } });
  }

  /**
   * The token with this hash if it is neither revoked nor expired at `now`. The hash is the only
   * thing a bearer presents, so this one lookup cannot be scoped by tenant: it is what finds the tenant.
   */
  async findActiveByHash(tokenHash: string, now: Date): Promise<ActiveTokenRow | null> {
    const row = await this.prisma.tenantToken.findFirst({
      where: { tokenHash, revokedAt: null, expiresAt: { gt: now } },
      select: { tenantId: true, id: true, name: true, scope: true, expiresAt: true },
    });
    return row ? { tenantId: row.tenantId, tokenId: row.id, name: row.name, scope: row.scope, expiresAt: row.expiresAt } : null;
  }

  /** A tenant's tokens, newest first (revoked and expired ones included, so the list tells what happened). */
  list(tenantId: string, limit: number): Promise<TenantToken[]> {
    return this.prisma.tenantToken.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
  }

  /** One token of the tenant, locked for update when read inside `tx`. */
  async findForUpdate(tenantId: string, tokenId: string, tx: Tx): Promise<TenantToken | null> {
    const rows = await tx.$queryRaw<
      { id: string }[]
    >`SELECT id FROM tenant_tokens WHERE tenant_id = ${tenantId}::uuid AND id = ${tokenId}::uuid FOR UPDATE`;
    if (rows.length === 0) return null;
    return tx.tenantToken.findFirst({ where: { tenantId, id: tokenId } });
  }

  /** Marks the token revoked at `at` (a revoked token stays revoked: the first time is kept). */
  async revoke(tenantId: string, tokenId: string, at: Date, tx: Tx): Promise<void> {
    await tx.tenantToken.updateMany({ where: { tenantId, id: tokenId, revokedAt: null }, data: { revokedAt: at } });
  }

  /** Records a use; never moves last_used_at backwards (processes report out of order). */
  async touch(tenantId: string, tokenId: string, at: Date): Promise<void> {
    await this.prisma.tenantToken.updateMany({
      where: { tenantId, id: tokenId, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] },
      data: { lastUsedAt: at },
    });
  }
}

import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '#libs/database';

@Injectable()
export class TenantTokenRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts a token's hash (inside `tx` when given) and returns the row's id. */
  async create(tenantId: string, tokenHash: string, tx?: Tx): Promise<string> {
    const row = await (tx ?? this.prisma).tenantToken.create({ data: { tenantId, tokenHash }, select: { id: true } });
    return row.id;
  }

  async findActive(tokenHash: string): Promise<{ tenantId: string; tokenId: string } | null> {
    const row = await this.prisma.tenantToken.findFirst({
      where: { tokenHash, revokedAt: null },
      select: { tenantId: true, id: true },
    });
    return row ? { tenantId: row.tenantId, tokenId: row.id } : null;
  }
}

import { Injectable } from '@nestjs/common';
import { PrismaService } from '#libs/database';

@Injectable()
export class TenantTokenRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(tenantId: string, tokenHash: string): Promise<void> {
    await this.prisma.tenantToken.create({ data: { tenantId, tokenHash } });
  }

  async findActiveTenantId(tokenHash: string): Promise<string | null> {
    const row = await this.prisma.tenantToken.findFirst({
      where: { tokenHash, revokedAt: null },
      select: { tenantId: true },
    });
    return row?.tenantId ?? null;
  }
}

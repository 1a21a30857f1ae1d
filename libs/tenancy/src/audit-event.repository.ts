import { Injectable } from '@nestjs/common';
import { type AuditEvent, type Prisma, PrismaService, type Tx } from '#libs/database';

/** Owns audit_events: insert and tenant-scoped keyset reads only (the table refuses UPDATE and DELETE). */
@Injectable()
export class AuditEventRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts one row, inside `tx` when given so it commits or rolls back with the change it records. */
  async insert(data: Prisma.AuditEventUncheckedCreateInput, tx?: Tx): Promise<void> {
    await (tx ?? this.prisma).auditEvent.create({ data });
  }

  /** A tenant's rows newest first, strictly before `after` (occurred_at, id) when given. */
  page(
    tenantId: string,
    filter: { action?: string; from?: Date; to?: Date; after?: { occurredAt: Date; id: string } },
    take: number,
  ): Promise<AuditEvent[]> {
    const { after } = filter;
    return this.prisma.auditEvent.findMany({
      where: {
        tenantId,
        ...(filter.action ? { action: filter.action } : {}),
        ...(filter.from || filter.to
          ? { occurredAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } }
          : {}),
        ...(after ? { OR: [{ occurredAt: { lt: after.occurredAt } }, { occurredAt: after.occurredAt, id: { lt: after.id } }] } : {}),
      },
      orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
      take,
    });
  }
}

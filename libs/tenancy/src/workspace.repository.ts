import { Injectable } from '@nestjs/common';
import { isUuid } from '#libs/common';
import { PrismaService, type Tenant, type Workspace } from '#libs/database';

@Injectable()
export class WorkspaceRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(tenantId: string, name: string): Promise<Workspace> {
    return this.prisma.workspace.create({ data: { tenantId, name } });
  }

  listByTenant(tenantId: string): Promise<Workspace[]> {
    return this.prisma.workspace.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** The one unscoped lookup: it is how a workspace id becomes a tenant in the first place. */
  async findWithTenant(workspaceId: string): Promise<(Workspace & { tenant: Tenant }) | null> {
    if (!isUuid(workspaceId)) return null;
    return this.prisma.workspace.findUnique({ where: { id: workspaceId }, include: { tenant: true } });
  }

  async moveToTenant(workspaceId: string, tenantId: string): Promise<Workspace | null> {
    if (!isUuid(workspaceId)) return null;
    const { count } = await this.prisma.workspace.updateMany({ where: { id: workspaceId }, data: { tenantId } });
    return count === 0 ? null : this.prisma.workspace.findUnique({ where: { id: workspaceId } });
  }
}

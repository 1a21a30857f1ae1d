import { Injectable } from '@nestjs/common';
import { isUuid } from '#libs/common';
import { type AiKeyMode, type PlanType, Prisma, PrismaService, type Tenant } from '#libs/database';
import { SubdomainTakenError } from './tenancy.errors.js';

@Injectable()
export class TenantRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(data: { subdomain: string; planType: PlanType; aiKeyMode: AiKeyMode }): Promise<Tenant> {
    try {
      return await this.prisma.tenant.create({ data });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new SubdomainTakenError(data.subdomain);
      }
      throw error;
    }
  }

  /**
   * Tenants in subdomain order after `after` (exclusive), those whose subdomain starts with
   * `subdomainPrefix` only, at most `take`: every tenant, for the platform admin's list. Served by the
   * unique index on subdomain (a keyset, never an offset).
   */
  pageAll(query: { subdomainPrefix?: string; after?: string; take: number }): Promise<Tenant[]> {
    const { subdomainPrefix, after, take } = query;
    return this.prisma.tenant.findMany({
      where: {
        subdomain: { ...(subdomainPrefix === undefined ? {} : { startsWith: subdomainPrefix }), ...(after === undefined ? {} : { gt: after }) },
      },
      orderBy: { subdomain: 'asc' },
      take,
    });
  }

  findById(tenantId: string): Promise<Tenant | null> {
    if (!isUuid(tenantId)) return Promise.resolve(null);
    return this.prisma.tenant.findUnique({ where: { id: tenantId } });
  }
}

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

  findById(tenantId: string): Promise<Tenant | null> {
    if (!isUuid(tenantId)) return Promise.resolve(null);
    return this.prisma.tenant.findUnique({ where: { id: tenantId } });
  }
}

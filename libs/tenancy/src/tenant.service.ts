import { Injectable } from '@nestjs/common';
import type { AiKeyMode, PlanType, Tenant } from '#libs/database';
import { TenantRepository } from './tenant.repository.js';
import { TenantNotFoundError } from './tenancy.errors.js';

@Injectable()
export class TenantService {
  constructor(private readonly tenants: TenantRepository) {}

  create(input: { subdomain: string; planType: PlanType; aiKeyMode: AiKeyMode }): Promise<Tenant> {
    return this.tenants.create(input);
  }

  async get(tenantId: string): Promise<Tenant> {
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw new TenantNotFoundError(tenantId);
    return tenant;
  }
}

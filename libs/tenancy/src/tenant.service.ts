import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '#libs/common';
import type { AiKeyMode, PlanType, Tenant } from '#libs/database';
import { TenantRepository } from './tenant.repository.js';
import { TenantNotFoundError } from './tenancy.errors.js';
import { canSee, type TenantScope } from './tenant-scope.js';

@Injectable()
export class TenantService {
  constructor(private readonly tenants: TenantRepository) {}

  create(input: { subdomain: string; planType: PlanType; aiKeyMode: AiKeyMode }): Promise<Tenant> {
    return this.tenants.create(input);
  }

  /**
   * A tenant whose id is already settled (a job's, or one a scoped call returned).
   * @throws TenantNotFoundError
   */
  async get(tenantId: string): Promise<Tenant> {
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw new TenantNotFoundError(tenantId);
    return tenant;
  }

  /**
   * A tenant as a caller in `scope` addresses it: another tenant answers exactly like a missing
   * one (404), so a token cannot probe which ids are real.
   * @throws TenantNotFoundError
   */
  async getIn(scope: TenantScope, tenantId: string): Promise<Tenant> {
    if (!canSee(scope, tenantId)) throw new TenantNotFoundError(tenantId);
    return this.get(tenantId);
  }

  /**
   * The tenant a request acts for when it may name one (`named`, from its body): the named one as
   * `getIn` finds it, else the caller's own; a tenant token naming another tenant is refused like
   * any other tenant's resource, never re-aimed at its own.
   * @throws ValidationFailedError (the platform scope named none), TenantNotFoundError
   */
  actingFor(scope: TenantScope, named: string | undefined): Promise<Tenant> {
    const tenantId = named ?? (scope.kind === 'tenant' ? scope.tenantId : undefined);
    if (tenantId === undefined) throw new ValidationFailedError('tenantId is required when the platform admin acts for a tenant');
    return this.getIn(scope, tenantId);
  }
}

import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '#libs/common';
import type { AiKeyMode, PlanType, Tenant } from '#libs/database';
import { TenantRepository } from './tenant.repository.js';
import { TenantNotFoundError } from './tenancy.errors.js';
import { canSee, type TenantScope } from './tenant-scope.js';

/** A page of the platform admin's tenant list. */
export interface TenantListQuery {
  /** nextCursor of the previous page */
  cursor?: string;
  /** Tenants per page. */
  limit: number;
  /** Only tenants whose subdomain starts with this. */
  subdomainPrefix?: string;
}

@Injectable()
export class TenantService {
  constructor(private readonly tenants: TenantRepository) {}

  create(input: { subdomain: string; planType: PlanType; aiKeyMode: AiKeyMode }): Promise<Tenant> {
    return this.tenants.create(input);
  }

  /**
   * Every tenant (the platform admin's list: no scope, since only the platform scope could call it),
   * in subdomain order, one page at a time, and the cursor of the next page (null at the end).
   * @throws ValidationFailedError for a cursor this service did not hand out
   */
  async listAll(query: TenantListQuery): Promise<{ items: Tenant[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.tenants.pageAll({ subdomainPrefix: query.subdomainPrefix, after, take: query.limit + 1 });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last.subdomain) : null };
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

// the cursor is the last subdomain of the page (unique, the list's order), base64url: opaque to clients
const SUBDOMAIN = /^[a-z0-9-]{1,63}$/;

function encodeCursor(subdomain: string): string {
  return Buffer.from(subdomain).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const subdomain = /^[A-Za-z0-9_-]{1,86}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!SUBDOMAIN.test(subdomain)) throw new ValidationFailedError('cursor is not one this API returned; start again without it');
  return subdomain;
}

import { Injectable, Logger } from '@nestjs/common';
import type { RequestKey } from '#libs/common';
import { type ResolvedTenant, TenantResolver } from '#libs/tenancy';
import { JobPreflight, type PreflightResult as JobPreflightResult } from '#libs/tenant-llm';

export interface PreflightResult extends JobPreflightResult {
  tenant: ResolvedTenant;
}

/**
 * Everything a backfill must know before it may fetch a single record: whose data it is (the
 * workspace's owner), then the pre-flight every job runs (JobPreflight: plan, key policy, placeholder
 * and live key checks).
 */
@Injectable()
export class BackfillPreflight {
  private readonly logger = new Logger(BackfillPreflight.name);

  constructor(
    private readonly tenants: TenantResolver,
    private readonly preflight: JobPreflight,
  ) {}

  /**
   * @throws WorkspaceNotFoundError, and whatever JobPreflight.check throws (PlanNotEligibleError,
   *   MissingApiKeyError, PlatformKeyMissingError, AuthenticationError, RateLimitedError,
   *   ProviderUnavailableError)
   */
  async check(workspaceId: string, requestKey?: RequestKey, jobId?: string): Promise<PreflightResult> {
    const tenant = await this.tenants.resolve(workspaceId);
    this.logger.log({ workspaceId, tenantId: tenant.tenantId }, 'Resolved tenant_id from workspace_id');
    return { tenant, ...(await this.preflight.check(tenant, { label: 'backfill', requestKey, jobId })) };
  }
}

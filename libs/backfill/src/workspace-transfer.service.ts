import { Injectable, Logger } from '@nestjs/common';
import type { Workspace } from '#libs/database';
import { type RequestActor, TenantResolver, TenantService, WorkspaceService } from '#libs/tenancy';
import { TransferBlockedByActiveJobError } from './backfill.errors.js';
import { BackfillRepository } from './backfill.repository.js';
import { BackfillService } from './backfill.service.js';

/**
 * Moves a workspace to another tenant without letting a job started by the old owner touch the
 * new owner's data: refused while a backfill is active, unless the caller asks to cancel them
 * first. A backfill that still slips in (started between the check and the move) is stopped by
 * the page fence and pre-flight, which compare the workspace's owner with the job's tenant.
 */
@Injectable()
export class WorkspaceTransferService {
  private readonly logger = new Logger(WorkspaceTransferService.name);

  constructor(
    private readonly workspaces: WorkspaceService,
    private readonly tenants: TenantService,
    private readonly resolver: TenantResolver,
    private readonly backfills: BackfillRepository,
    private readonly backfillService: BackfillService,
  ) {}

  /**
   * A transfer to the current owner changes nothing, cancels nothing and records nothing; `actor`
   * (every API call) is written to both tenants' audit logs with the move.
   * @throws TransferBlockedByActiveJobError (409) while a backfill is active and `cancelActive` is not set,
   *   TenantNotFoundError, WorkspaceNotFoundError (both before anything is cancelled)
   */
  async transfer(workspaceId: string, toTenantId: string, options: { cancelActive?: boolean; actor?: RequestActor } = {}): Promise<Workspace> {
    // a transfer that will be refused must not have cancelled anything first
    await this.tenants.get(toTenantId);
    const owner = await this.resolver.resolve(workspaceId);
    if (owner.tenantId === toTenantId) return this.workspaces.transfer(workspaceId, toTenantId, options.actor);
    const active = await this.backfills.listActiveAnyTenant(workspaceId);
    if (active.length > 0 && !options.cancelActive) throw new TransferBlockedByActiveJobError(active.map((b) => b.id));
    if (active.length > 0) {
      const cancelled = await this.backfillService.cancelActive(workspaceId);
      this.logger.log({ workspaceId, backfills: cancelled }, 'Cancelled active backfills before a workspace transfer');
    }
    return this.workspaces.transfer(workspaceId, toTenantId, options.actor);
  }
}

import { Module } from '@nestjs/common';
import { ByokModule } from '#libs/byok';
import { GraphragModule } from '#libs/graphrag';
import { MailboxModule } from '#libs/mailbox';
import { RecordsModule } from '#libs/records';
import { TenancyModule } from '#libs/tenancy';
import { TenantLlmModule } from '#libs/tenant-llm';
import { BackfillEstimator } from './backfill-estimate.service.js';
import { WebhooksModule } from '#libs/webhooks';
import { BackfillJob } from './backfill.job.js';
import { BackfillPreflight } from './backfill-preflight.service.js';
import { BackfillRunner } from './backfill-runner.service.js';
import { BackfillSlots } from './backfill-slots.service.js';
import { BackfillRepository } from './backfill.repository.js';
import { BackfillService } from './backfill.service.js';
import { RecordFailureRepository } from './record-failure.repository.js';
import { WorkspaceTransferService } from './workspace-transfer.service.js';

/** Backfills: the API side (start, read, cancel) and the worker side (pre-flight, paged extraction). */
@Module({
  imports: [TenancyModule, ByokModule, TenantLlmModule, RecordsModule, GraphragModule, WebhooksModule, MailboxModule],
  providers: [
    BackfillRepository,
    RecordFailureRepository,
    BackfillPreflight,
    BackfillService,
    BackfillRunner,
    BackfillJob,
    WorkspaceTransferService,
    BackfillSlots,
    BackfillEstimator,
  ],
  exports: [BackfillService, BackfillEstimator, BackfillRunner, WorkspaceTransferService, BackfillRepository, RecordFailureRepository, BackfillSlots],
})
export class BackfillModule {}

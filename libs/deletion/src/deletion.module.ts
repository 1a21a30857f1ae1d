import { Module } from '@nestjs/common';
import { BackfillModule } from '#libs/backfill';
import { GraphragModule } from '#libs/graphrag';
import { RecordsModule } from '#libs/records';
import { TenancyModule } from '#libs/tenancy';
import { RecordDeletionService } from './record-deletion.service.js';
import { WorkspaceDeletionJob } from './workspace-deletion.job.js';
import { WorkspaceDeletionRepository } from './workspace-deletion.repository.js';
import { WorkspaceDeletionService } from './workspace-deletion.service.js';

/** Deleting data: one record (with what the graph derived from it only) or a whole workspace (the API side and its job). */
@Module({
  imports: [TenancyModule, RecordsModule, GraphragModule, BackfillModule],
  providers: [RecordDeletionService, WorkspaceDeletionRepository, WorkspaceDeletionService, WorkspaceDeletionJob],
  exports: [RecordDeletionService, WorkspaceDeletionService],
})
export class DeletionModule {}

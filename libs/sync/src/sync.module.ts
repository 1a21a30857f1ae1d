import { Module } from '@nestjs/common';
import { ByokModule } from '#libs/byok';
import { GraphragModule } from '#libs/graphrag';
import { TenancyModule } from '#libs/tenancy';
import { BackfillPreflight } from './backfill-preflight.service.js';
import { BackfillService } from './backfill.service.js';
import { HistoricalSyncService } from './historical-sync.service.js';
import { RecordIngestService } from './record-ingest.service.js';
import { RecordSourceFactory } from './record-source.js';
import { SourceRecordRepository } from './source-record.repository.js';
import { SyncJobRepository } from './sync-job.repository.js';

@Module({
  imports: [TenancyModule, ByokModule, GraphragModule],
  providers: [
    SourceRecordRepository,
    SyncJobRepository,
    RecordIngestService,
    RecordSourceFactory,
    BackfillPreflight,
    BackfillService,
    HistoricalSyncService,
  ],
  exports: [RecordIngestService, RecordSourceFactory, BackfillService, HistoricalSyncService, GraphragModule],
})
export class SyncModule {}

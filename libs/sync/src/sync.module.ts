import { Module } from '@nestjs/common';
import { ByokModule } from '#libs/byok';
import { GraphragModule } from '#libs/graphrag';
import { TenancyModule } from '#libs/tenancy';
import { RecordIngestService } from './record-ingest.service.js';
import { SourceRecordRepository } from './source-record.repository.js';

@Module({
  imports: [TenancyModule, ByokModule, GraphragModule],
  providers: [SourceRecordRepository, RecordIngestService],
  exports: [RecordIngestService, GraphragModule],
})
export class SyncModule {}

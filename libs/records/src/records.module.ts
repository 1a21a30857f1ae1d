import { Module } from '@nestjs/common';
import { RecordIngestService } from './record-ingest.service.js';
import { RecordSourceFactory } from './record-source.js';
import { SourceRecordRepository } from './source-record.repository.js';

/** A workspace's source records: ingest (JSON, NDJSON, mbox) and the connectors a backfill pages through. */
@Module({
  providers: [SourceRecordRepository, RecordIngestService, RecordSourceFactory],
  exports: [RecordIngestService, RecordSourceFactory],
})
export class RecordsModule {}

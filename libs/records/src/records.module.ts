import { Module } from '@nestjs/common';
import { RecordIngestService } from './record-ingest.service.js';
import { RecordSourceFactory } from './record-source.js';
import { RecordTombstoneRepository } from './record-tombstone.repository.js';
import { SourceRecordRepository } from './source-record.repository.js';

/** A workspace's source records: ingest (JSON, NDJSON, mbox) and the connectors a backfill pages through. */
@Module({
  providers: [SourceRecordRepository, RecordTombstoneRepository, RecordIngestService, RecordSourceFactory],
  exports: [RecordIngestService, RecordSourceFactory, SourceRecordRepository, RecordTombstoneRepository],
})
export class RecordsModule {}

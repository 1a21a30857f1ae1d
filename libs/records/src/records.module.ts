import { Module } from '@nestjs/common';
import { RecordIngestService } from './record-ingest.service.js';
import { RecordReader } from './record-reader.service.js';
import { RecordSourceFactory } from './record-source.js';
import { RecordTombstoneRepository } from './record-tombstone.repository.js';
import { SourceRecordRepository } from './source-record.repository.js';

/** A workspace's source records: ingest (JSON, NDJSON, mbox), reading them back, and the connectors a backfill pages through. */
@Module({
  providers: [SourceRecordRepository, RecordTombstoneRepository, RecordIngestService, RecordReader, RecordSourceFactory],
  exports: [RecordIngestService, RecordReader, RecordSourceFactory, SourceRecordRepository, RecordTombstoneRepository],
})
export class RecordsModule {}

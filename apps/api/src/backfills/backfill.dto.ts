import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { Backfill } from '#libs/database';
import { RECORD_SOURCES, type RecordSourceName } from '#libs/records';

export class StartBackfillDto {
  @ApiPropertyOptional({ enum: RECORD_SOURCES, default: 'api' })
  @IsOptional()
  @IsIn(RECORD_SOURCES, { message: `source must be one of ${RECORD_SOURCES.join(', ')}` })
  source?: RecordSourceName;
}

export class BackfillStartedView {
  @ApiProperty({ format: 'uuid' }) jobId: string;
}

class FailureView {
  @ApiProperty({ example: 'NO_API_KEY' }) code: string;
  @ApiProperty() message: string;
}

class CountersView {
  @ApiProperty() recordsFetched: number;
  @ApiProperty() recordsProcessed: number;
  @ApiProperty({ description: 'Entities this backfill added to the graph' }) entities: number;
  @ApiProperty({ description: 'Relationships this backfill added to the graph' }) relationships: number;
}

export class BackfillView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) workspaceId: string;
  @ApiProperty({ enum: ['api', 'mbox'] }) source: string;
  @ApiProperty({ enum: ['queued', 'preflight', 'running', 'succeeded', 'failed', 'cancelled'] }) status: string;
  @ApiProperty({ type: FailureView, nullable: true }) failure: FailureView | null;
  @ApiProperty({ type: CountersView }) counters: CountersView;
  @ApiProperty({ nullable: true, type: String }) provider: string | null;
  @ApiProperty({ nullable: true, enum: ['request', 'tenant', 'platform'] }) keySource: string | null;
  @ApiProperty({ nullable: true, type: String }) keyLast4: string | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) startedAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) finishedAt: Date | null;

  static of(job: Backfill): BackfillView {
    return {
      id: job.id,
      workspaceId: job.workspaceId,
      source: job.source,
      status: job.status,
      failure: job.failureCode ? { code: job.failureCode, message: job.failureMessage ?? '' } : null,
      counters: { recordsFetched: job.recordsFetched, recordsProcessed: job.recordsProcessed, entities: job.entities, relationships: job.relationships },
      provider: job.provider,
      keySource: job.keySource,
      keyLast4: job.keyLast4,
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
    };
  }
}

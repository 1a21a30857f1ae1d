import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { GRAPH_PAGE_DEFAULT_LIMIT, GRAPH_PAGE_MAX_LIMIT } from '#libs/graphrag';

export class GraphQueryDto {
  @ApiPropertyOptional({ example: 'person', description: 'Only entities of exactly this type' })
  @IsOptional()
  @IsString({ message: 'type must be a single string' })
  @MaxLength(200, { message: 'type must be at most 200 characters' })
  type?: string;

  @ApiPropertyOptional({ example: 'alice', description: 'Case-insensitive fragment of the entity name' })
  @IsOptional()
  @IsString({ message: 'q must be a single string' })
  @MaxLength(200, { message: 'q must be at most 200 characters' })
  q?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString({ message: 'cursor must be a single string' })
  cursor?: string;

  @ApiPropertyOptional({ default: GRAPH_PAGE_DEFAULT_LIMIT, minimum: 1, maximum: GRAPH_PAGE_MAX_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: `limit must be from 1 to ${GRAPH_PAGE_MAX_LIMIT}` })
  @Max(GRAPH_PAGE_MAX_LIMIT, { message: `limit must be from 1 to ${GRAPH_PAGE_MAX_LIMIT}` })
  limit?: number;
}

export class EntityView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ example: 'person' }) type: string;
  @ApiProperty() description: string;
  @ApiProperty({ description: 'Records that mention the entity' }) mentionCount: number;
}

export class RelationshipView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) sourceId: string;
  @ApiProperty({ format: 'uuid' }) targetId: string;
  @ApiProperty() description: string;
  @ApiProperty({ minimum: 1, maximum: 10 }) strength: number;
}

export class GraphPageView {
  @ApiProperty({ type: [EntityView], description: 'Ordered by normalized name, then id' }) entities: EntityView[];
  @ApiProperty({ type: [RelationshipView], description: 'Every relationship with at least one end among these entities' }) relationships: RelationshipView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null on the last page' }) nextCursor: string | null;
}

export class MentionView {
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty() externalId: string;
  @ApiProperty() subject: string;
  @ApiProperty() from: string;
  @ApiProperty() sentAt: Date;
}

export class EntityDetailView extends EntityView {
  @ApiProperty({ type: [MentionView], description: 'The first 100 mentions, oldest record first' }) mentions: MentionView[];
}

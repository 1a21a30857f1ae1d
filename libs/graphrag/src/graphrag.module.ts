import { Module } from '@nestjs/common';
import { GraphExtractor } from './graph-extractor.service.js';
import { GraphQueryService } from './graph-query.service.js';
import { GraphRepository } from './graph.repository.js';

@Module({
  providers: [GraphRepository, GraphExtractor, GraphQueryService],
  exports: [GraphRepository, GraphExtractor, GraphQueryService],
})
export class GraphragModule {}

import { Module } from '@nestjs/common';
import { GraphExtractor } from './graph-extractor.service.js';
import { GraphPageCache } from './graph-page-cache.js';
import { GraphQueryService } from './graph-query.service.js';
import { GraphReadPool } from './graph-read-pool.js';
import { GraphReadRepository } from './graph-read.repository.js';
import { GraphRepository } from './graph.repository.js';

@Module({
  providers: [GraphRepository, GraphExtractor, GraphQueryService, GraphReadPool, GraphReadRepository, GraphPageCache],
  exports: [GraphRepository, GraphExtractor, GraphQueryService],
})
export class GraphragModule {}

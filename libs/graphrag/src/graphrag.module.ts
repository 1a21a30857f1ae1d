import { Module } from '@nestjs/common';
import { GraphExtractor } from './graph-extractor.service.js';
import { GraphRepository } from './graph.repository.js';

@Module({
  providers: [GraphRepository, GraphExtractor],
  exports: [GraphRepository, GraphExtractor],
})
export class GraphragModule {}

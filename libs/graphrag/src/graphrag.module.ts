import { Module } from '@nestjs/common';
import { GraphRepository } from './graph.repository.js';

@Module({
  providers: [GraphRepository],
  exports: [GraphRepository],
})
export class GraphragModule {}

import { Module } from '@nestjs/common';
import { ByokModule } from '#libs/byok';
import { GraphragModule } from '#libs/graphrag';
import { TenancyModule } from '#libs/tenancy';
import { TenantLlmModule } from '#libs/tenant-llm';
import { AiExtractJob } from './ai-extract.job.js';
import { AiJobRunner } from './ai-job-runner.service.js';
import { AiJobRepository } from './ai-job.repository.js';
import { AiJobService } from './ai-job.service.js';

@Module({
  imports: [TenancyModule, ByokModule, TenantLlmModule, GraphragModule],
  providers: [AiJobRepository, AiJobService, AiJobRunner, AiExtractJob],
  exports: [AiJobService, AiJobRunner],
})
export class AiJobsModule {}

import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AiJobService } from '#libs/ai-jobs';
import { ErrorCode, type RequestKey } from '#libs/common';
import { TenantService, type TenantScope } from '#libs/tenancy';
import { UsageService } from '#libs/usage';
import { CurrentScope } from '../auth/scope.js';
import { ApiByokHeaders, RequestScopedKey } from '../byok/byok-headers.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody } from '../http/zod-validation.js';
import { aiJobStartedView, type AiJobView, aiJobView, type ExtractJobBody, extractJobBody, toAiJobView } from './ai-jobs.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { aiJobExample, aiJobStartedExample } from './ai-jobs.examples.js';

@ApiTags('ai jobs')
@ApiBearerAuth()
@Controller('v1/ai/jobs')
export class AiJobsController {
  constructor(
    private readonly jobs: AiJobService,
    private readonly tenants: TenantService,
    private readonly usage: UsageService,
  ) {}

  @Post('extract')
  @ApiOperation({
    summary: 'Start an AI extract job',
    description:
      "Extracts entities and relationships from `text` in a job, with the tenant's key under its key mode or the BYOK headers' key (this job only, sealed in the queue). " +
      'The platform admin names the tenant (`tenantId`); a tenant token acts for its own. A missing key or plan access fails the job, stored as its error.',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.QueueUnavailable)
  @HttpCode(202)
  @ApiByokHeaders()
  @ApiSuccess(202, aiJobStartedView, aiJobStartedExample, 'Queued')
  async extract(
    @CurrentScope() scope: TenantScope,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @ValidBody(extractJobBody, { text: 'Ann from Acme met Bob from Globex in Berlin.', provider: 'openai' }) body: ExtractJobBody,
  ): Promise<{ jobId: string }> {
    const tenant = await this.tenants.actingFor(scope, body.tenantId);
    const job = await this.jobs.createExtract(tenant.id, body.text, { provider: body.provider, requestKey });
    return { jobId: job.id };
  }

  @Get(':jobId')
  @ApiOperation({
    summary: 'Get an AI job',
    description:
      "Status, result { entities, relationships } once succeeded, error { code, message }, provider, key source, usage. Another tenant's answers 404.",
  })
  @ApiErrors(ErrorCode.AiJobNotFound)
  @ApiSuccess(200, aiJobView, aiJobExample)
  async get(@CurrentScope() scope: TenantScope, @UuidParam('jobId') jobId: string): Promise<AiJobView> {
    const job = await this.jobs.get(scope, jobId);
    return toAiJobView(job, (await this.usage.perJob(job.tenantId, [job.id])).get(job.id));
  }
}

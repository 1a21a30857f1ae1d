import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { AiJobService } from '#libs/ai-jobs';
import { PROVIDER_IDS, type ProviderId, type RequestKey, ValidationFailedError } from '#libs/common';
import type { AiJob } from '#libs/database';
import { TenantService } from '#libs/tenancy';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { ApiByokHeaders, RequestScopedKey } from '../byok/byok-headers.js';
import { uuidParam } from '../http/validation.js';

export class ExtractJobDto {
  @ApiProperty({ description: 'The text to extract entities and relationships from', maxLength: 100_000 })
  @IsString()
  @MinLength(1, { message: 'text must not be empty' })
  @MaxLength(100_000, { message: 'text must be at most 100000 characters' })
  text: string;

  @ApiPropertyOptional({ enum: PROVIDER_IDS, description: "Without BYOK headers: the provider to use with the tenant's key mode" })
  @IsOptional()
  @IsIn(PROVIDER_IDS, { message: `provider must be one of ${PROVIDER_IDS.join(', ')}` })
  provider?: ProviderId;

  @ApiPropertyOptional({ format: 'uuid', description: 'Required for the platform admin; a tenant token acts for its own tenant' })
  @IsOptional()
  @IsUUID('all', { message: 'tenantId must be a UUID' })
  tenantId?: string;
}

export class AiJobView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed'] }) status: string;
  @ApiProperty({ nullable: true, description: '{ entities, relationships } once succeeded' }) result: unknown;
  @ApiProperty({ nullable: true, description: '{ code, message } once failed' }) error: { code: string; message: string } | null;
  @ApiProperty({ nullable: true, type: String }) provider: string | null;
  @ApiProperty({ nullable: true, enum: ['request', 'tenant', 'platform'] }) keySource: string | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) finishedAt: Date | null;

  static of(job: AiJob): AiJobView {
    return {
      id: job.id,
      status: job.status,
      result: job.result ?? null,
      error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? '' } : null,
      provider: job.provider,
      keySource: job.keySource,
      createdAt: job.createdAt,
      finishedAt: job.finishedAt,
    };
  }
}

@ApiTags('ai jobs')
@ApiBearerAuth()
@Controller('v1/ai/jobs')
export class AiJobsController {
  constructor(
    private readonly jobs: AiJobService,
    private readonly tenants: TenantService,
  ) {}

  @Post('extract')
  @HttpCode(202)
  @ApiByokHeaders()
  @ApiAcceptedResponse({ description: '{ jobId }' })
  async extract(
    @CurrentPrincipal() principal: Principal,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @Body() body: ExtractJobDto,
  ): Promise<{ jobId: string }> {
    const tenantId = principal.kind === 'tenant' ? principal.tenantId : body.tenantId;
    if (!tenantId) throw new ValidationFailedError('tenantId is required when the platform admin creates a job');
    assertTenantAccess(principal, tenantId);
    await this.tenants.get(tenantId);
    const job = await this.jobs.createExtract(tenantId, body.text, { provider: body.provider, requestKey });
    return { jobId: job.id };
  }

  @Get(':jobId')
  @ApiOkResponse({ type: AiJobView })
  async get(@CurrentPrincipal() principal: Principal, @Param('jobId', uuidParam('jobId')) jobId: string): Promise<AiJobView> {
    return AiJobView.of(await this.jobs.get(jobId, principal.kind === 'tenant' ? principal.tenantId : null));
  }
}

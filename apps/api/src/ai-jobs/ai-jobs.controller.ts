import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AiJobService } from '#libs/ai-jobs';
import { type RequestKey, ValidationFailedError } from '#libs/common';
import { TenantService } from '#libs/tenancy';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { assertTenantAccess } from '../auth/tenant-access.js';
import { ApiByokHeaders, RequestScopedKey } from '../byok/byok-headers.js';
import { openApiSchema, UuidParam, ValidBody } from '../http/zod-validation.js';
import { aiJobStartedView, type AiJobView, aiJobView, type ExtractJobBody, extractJobBody, toAiJobView } from './ai-jobs.dto.js';

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
  @ApiAcceptedResponse({ schema: openApiSchema(aiJobStartedView, 'output') })
  async extract(
    @CurrentPrincipal() principal: Principal,
    @RequestScopedKey() requestKey: RequestKey | undefined,
    @ValidBody(extractJobBody) body: ExtractJobBody,
  ): Promise<{ jobId: string }> {
    // a tenant token naming another tenant is refused like any other tenant's resource, never re-aimed at its own
    const tenantId = body.tenantId ?? (principal.kind === 'tenant' ? principal.tenantId : undefined);
    if (!tenantId) throw new ValidationFailedError('tenantId is required when the platform admin creates a job');
    assertTenantAccess(principal, tenantId);
    await this.tenants.get(tenantId);
    const job = await this.jobs.createExtract(tenantId, body.text, { provider: body.provider, requestKey });
    return { jobId: job.id };
  }

  @Get(':jobId')
  @ApiOkResponse({ schema: openApiSchema(aiJobView, 'output') })
  async get(@CurrentPrincipal() principal: Principal, @UuidParam('jobId') jobId: string): Promise<AiJobView> {
    return toAiJobView(await this.jobs.get(jobId, principal.kind === 'tenant' ? principal.tenantId : null));
  }
}

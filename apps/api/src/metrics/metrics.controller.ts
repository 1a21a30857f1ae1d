import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Metrics } from '#libs/metrics';
import { MetricsReader, PlatformOnly } from '../auth/principal.js';

/** An excerpt of a scrape, for the document: two of the series, as the exposition format prints them. */
const METRICS_EXAMPLE = [
  '# HELP byok_provider_calls_total Provider calls (each attempt) by provider, operation and outcome.',
  '# TYPE byok_provider_calls_total counter',
  'byok_provider_calls_total{provider="openai",operation="complete",outcome="ok"} 1240',
  'byok_provider_calls_total{provider="openai",operation="complete",outcome="rate_limited"} 3',
  '# HELP byok_provider_rate_limited_total Provider calls answered 429 (rate limited), by provider.',
  '# TYPE byok_provider_rate_limited_total counter',
  'byok_provider_rate_limited_total{provider="openai"} 3',
  '',
].join('\n');

/**
 * This API process's metrics in Prometheus's text format, for the platform admin token or the metrics
 * token (METRICS_TOKEN) only: a tenant token is refused 403, no token 401. Workers serve their own on
 * METRICS_PORT.
 */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @PlatformOnly()
  @MetricsReader()
  @ApiOperation({
    summary: "This API process's metrics",
    description:
      'Prometheus text format, for the platform admin token or the metrics token (METRICS_TOKEN), which opens nothing else; a tenant token gets 403.',
  })
  @ApiErrors()
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' }, example: METRICS_EXAMPLE })
  async scrape(@Res() response: Response): Promise<void> {
    const { contentType, text } = await this.metrics.exposition();
    response.status(200).setHeader('Content-Type', contentType).setHeader('Cache-Control', 'no-store').send(text);
  }
}
import { ApiErrors } from '../http/api-errors.js';

import { Controller, Get, Headers, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Response } from 'express';
import { PrismaService } from '#libs/database';
import { RedisService } from '#libs/redis';
import { AdminToken } from '../auth/admin-token.js';
import { ApiErrors } from '../http/api-errors.js';
import { Public } from '../auth/principal.js';
import { z } from 'zod';
import { ApiSuccess } from '../http/api-success.js';
import { openApiSchema } from '../http/zod-validation.js';

const componentStatuses = z.record(z.string(), z.object({ status: z.string().meta({ example: 'up' }) }).loose());

/** terminus's health shape, as anyone sees it (the admin token also sees each driver's error text). */
const healthView = z.object({
  status: z.string().meta({ example: 'ok' }),
  info: componentStatuses.optional(),
  error: componentStatuses.optional(),
  details: componentStatuses,
});

const HEALTH_EXAMPLE = {
  status: 'ok',
  info: { postgres: { status: 'up' }, redis: { status: 'up' } },
  error: {},
  details: { postgres: { status: 'up' }, redis: { status: 'up' } },
};

const CHECK_TIMEOUT_MS = 1_500;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
    private readonly adminToken: AdminToken,
  ) {}

  /**
   * 200 when Postgres and Redis answer, 503 with the failing one named otherwise. Anyone sees each
   * component's status only; the drivers' error text (hosts, ports, user names) is shown to the
   * platform admin token alone.
   */
  @Get()
  @Public()
  @ApiOperation({
    summary: 'Health of Postgres and Redis',
    description:
      "No token needed. 200 when both answer, 503 naming the one that is down (terminus's shape); the drivers' error text is shown to the platform admin token only.",
  })
  @ApiErrors()
  @ApiSuccess(200, healthView, HEALTH_EXAMPLE, 'Postgres and Redis answer: { status: "ok", info, error, details }')
  @ApiServiceUnavailableResponse({
    description: "One of them is down, named in `error` (not the Error schema: terminus's health shape)",
    schema: openApiSchema(healthView, 'output'),
    example: {
      status: 'error',
      info: { postgres: { status: 'up' } },
      error: { redis: { status: 'down' } },
      details: { postgres: { status: 'up' }, redis: { status: 'down' } },
    },
  })
  @HealthCheck()
  async check(@Res({ passthrough: true }) response: Response, @Headers('authorization') authorization?: string): Promise<unknown> {
    const result = await this.run(response);
    return this.adminToken.inHeader(authorization) ? result : statusesOnly(result);
  }

  private async run(response: Response): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () =>
          this.indicators
            .check('postgres')
            .attempt(async () => {
              await this.prisma.$queryRaw`SELECT 1`;
            })
            .withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('redis')
            .attempt(async () => {
              await this.redis.ping();
            })
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      response.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }
}

type ComponentStatuses = Record<string, { status: string }>;

/** The result with each component reduced to its status (`up` or `down`), in terminus's shape. */
function statusesOnly(result: HealthCheckResult): {
  status: string;
  info?: ComponentStatuses;
  error?: ComponentStatuses;
  details: ComponentStatuses;
} {
  const reduce = (group: Record<string, { status: string } | undefined> | undefined): ComponentStatuses | undefined =>
    group && Object.fromEntries(Object.entries(group).flatMap(([name, component]) => (component ? [[name, { status: component.status }]] : [])));
  return { status: result.status, info: reduce(result.info), error: reduce(result.error), details: reduce(result.details) ?? {} };
}

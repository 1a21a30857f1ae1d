import { Controller, Delete, Get, HttpCode, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '#libs/common';
import { TenantService, type TenantScope } from '#libs/tenancy';
import { BudgetService, type BudgetStatus, type UsageReport, UsageService } from '#libs/usage';
import { AdminScope } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody, ValidQuery } from '../http/zod-validation.js';
import { budgetStatusView, type PutBudgetBody, putBudgetBody, type UsageQueryParams, usageQuery, usageView } from './usage.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { budgetStatusExample, usageExample } from './usage.examples.js';

@ApiTags('usage')
@ApiBearerAuth()
@Controller('v1/tenants/:tenantId')
export class UsageController {
  constructor(
    private readonly tenants: TenantService,
    private readonly usage: UsageService,
    private readonly budgets: BudgetService,
  ) {}

  /** The tenant's provider usage (tokens, calls, cost) in [from, to), grouped by day, provider, model or job. */
  @Get('usage')
  @ApiOperation({
    summary: "Read a tenant's provider usage",
    description:
      'Tokens, calls and cost (micro-USD, by the price table) in [from, to), grouped by day, provider, model or job. 400 VALIDATION_FAILED on a bad date, group or range.',
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, usageView, usageExample)
  async report(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidQuery(usageQuery) query: UsageQueryParams,
  ): Promise<UsageReport> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.usage.report(tenant.id, query);
  }

  @Get('budget')
  @ApiOperation({ summary: "Read a tenant's budget", description: "The budget (null when none is set) and this month's spend (UTC calendar month)." })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, budgetStatusView, budgetStatusExample)
  async getBudget(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<BudgetStatus> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.budgets.get(tenant.id);
  }

  /** Sets the tenant's monthly budget (USD or tokens), alert or hard, with an optional per-job cap. */
  @Put('budget')
  @AdminScope()
  @ApiOperation({
    summary: "Set a tenant's budget",
    description:
      'A monthly limit in USD or in tokens (exactly one), `alert` (thresholds at 80 and 100 percent) or `hard` (jobs stop at the limit), and an optional per-job cap.',
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, budgetStatusView, budgetStatusExample)
  async putBudget(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidBody(putBudgetBody, { monthlyLimitUsd: 250, mode: 'hard', perJobLimitUsd: 25 }) body: PutBudgetBody,
  ): Promise<BudgetStatus> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.budgets.put(tenant.id, body);
  }

  @Delete('budget')
  @AdminScope()
  @ApiOperation({ summary: "Remove a tenant's budget", description: 'Jobs run without a limit from now on; 204 also when none was set.' })
  @ApiErrors(ErrorCode.TenantNotFound)
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Also when none was set' })
  async deleteBudget(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<void> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    await this.budgets.delete(tenant.id);
  }
}

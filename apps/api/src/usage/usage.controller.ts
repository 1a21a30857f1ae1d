import { Controller, Delete, Get, HttpCode, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { TenantService, type TenantScope } from '#libs/tenancy';
import { BudgetService, type BudgetStatus, type UsageReport, UsageService } from '#libs/usage';
import { AdminScope } from '../auth/principal.js';
import { CurrentScope } from '../auth/scope.js';
import { openApiSchema, UuidParam, ValidBody, ValidQuery } from '../http/zod-validation.js';
import { budgetStatusView, type PutBudgetBody, putBudgetBody, type UsageQueryParams, usageQuery, usageView } from './usage.dto.js';

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
  @ApiOkResponse({ schema: openApiSchema(usageView, 'output'), description: '400 VALIDATION_FAILED on a bad date, group or range' })
  async report(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidQuery(usageQuery) query: UsageQueryParams,
  ): Promise<UsageReport> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.usage.report(tenant.id, query);
  }

  @Get('budget')
  @ApiOkResponse({ schema: openApiSchema(budgetStatusView, 'output'), description: '404 BUDGET_NOT_FOUND when none is set' })
  async getBudget(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<BudgetStatus> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.budgets.get(tenant.id);
  }

  /** Sets the tenant's monthly budget (USD or tokens), alert or hard, with an optional per-job cap. */
  @Put('budget')
  @AdminScope()
  @ApiOkResponse({ schema: openApiSchema(budgetStatusView, 'output') })
  async putBudget(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidBody(putBudgetBody) body: PutBudgetBody,
  ): Promise<BudgetStatus> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.budgets.put(tenant.id, body);
  }

  @Delete('budget')
  @AdminScope()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Also when none was set' })
  async deleteBudget(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<void> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    await this.budgets.delete(tenant.id);
  }
}

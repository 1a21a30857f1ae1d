import { Module } from '@nestjs/common';
import { WebhooksModule } from '#libs/webhooks';
import { BudgetRepository } from './budget.repository.js';
import { BudgetService } from './budget.service.js';
import { UsageClock } from './usage-clock.js';
import { UsageRepository } from './usage.repository.js';
import { UsageService } from './usage.service.js';

/** Usage reads, budgets and their thresholds (announced as `budget.threshold` webhooks); recording happens in libs/tenant-llm's ProviderSession. */
@Module({
  imports: [WebhooksModule],
  providers: [BudgetRepository, BudgetService, UsageClock, UsageRepository, UsageService],
  exports: [BudgetService, UsageClock, UsageRepository, UsageService],
})
export class UsageModule {}

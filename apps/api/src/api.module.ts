import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AiJobsModule } from '#libs/ai-jobs';
import { BackfillModule } from '#libs/backfill';
import { ByokModule } from '#libs/byok';
import type { AppConfig } from '#libs/config';
import { DeletionModule } from '#libs/deletion';
import { GraphragModule } from '#libs/graphrag';
import { InfrastructureModule } from '#libs/infrastructure';
import type { LoggingOptions } from '#libs/logging';
import { RecordsModule } from '#libs/records';
import { TenancyModule } from '#libs/tenancy';
import { TenantLlmModule } from '#libs/tenant-llm';
import { WebhooksModule } from '#libs/webhooks';
import { MailboxModule } from '#libs/mailbox';
import { AiJobsController } from './ai-jobs/ai-jobs.controller.js';
import { AdminToken } from './auth/admin-token.js';
import { AuthGuard } from './auth/auth.guard.js';
import { Authenticator } from './auth/authenticator.js';
import { BackfillsController } from './backfills/backfills.controller.js';
import { DeletionController } from './deletion/deletion.controller.js';
import { HealthController } from './health/health.controller.js';
import { GraphController } from './graph/graph.controller.js';
import { ErrorFilter } from './http/error.filter.js';
import { MeController } from './me/me.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { RecordsController } from './records/records.controller.js';
import { RecordsReadController } from './records/records-read.controller.js';
import { SettingsController } from './settings/settings.controller.js';
import { TenantsController } from './tenants/tenants.controller.js';
import { AuditController } from './audit/audit.controller.js';
import { TokensController } from './tokens/tokens.controller.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';
import { MailboxController } from './mailbox/mailbox.controller.js';
import { WorkspacesController } from './workspaces/workspaces.controller.js';
import { UsageController } from './usage/usage.controller.js';

@Module({})
export class ApiModule {
  static forRoot(config: AppConfig, logging: LoggingOptions = {}): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        InfrastructureModule.forRoot(config, logging),
        TerminusModule.forRoot({ logger: false }),
        TenancyModule,
        ByokModule,
        TenantLlmModule,
        RecordsModule,
        GraphragModule,
        BackfillModule,
        AiJobsModule,
        DeletionModule,
        WebhooksModule,
        MailboxModule,
      ],
      controllers: [
        HealthController,
        TenantsController,
        WorkspacesController,
        SettingsController,
        RecordsController,
        RecordsReadController,
        GraphController,
        BackfillsController,
        UsageController,
        AiJobsController,
        MeController,
        DeletionController,
        AuditController,
        TokensController,
        WebhooksController,
        MailboxController,
        MetricsController,
      ],
      providers: [AdminToken, Authenticator, { provide: APP_GUARD, useClass: AuthGuard }, { provide: APP_FILTER, useClass: ErrorFilter }],
    };
  }
}

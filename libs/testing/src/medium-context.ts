import { randomBytes } from 'node:crypto';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ByokModule } from '#libs/byok';
import type { AppConfig } from '#libs/config';
import { AiKeyMode, PlanType, PrismaService, type Tenant, type Workspace } from '#libs/database';
import { InfrastructureModule } from '#libs/infrastructure';
import { PinoLoggerService } from '#libs/logging';
import { CacheInvalidationBus } from '#libs/redis';
import { PLATFORM_SCOPE, TenancyModule, TenantService, WorkspaceService } from '#libs/tenancy';
import { fileLogs, type LogCapture } from './log-capture.js';
import { deleteRedisPrefix } from './redis-cleanup.js';
import { testConfig } from './test-config.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface NewTenant {
  subdomain?: string;
  planType?: PlanType;
  aiKeyMode?: AiKeyMode;
}

/** Factories shared by medium and e2e tests: they go through the real services. */
export class Factories {
  constructor(protected readonly nest: INestApplicationContext) {}

  async newTenant(input: NewTenant = {}): Promise<Tenant> {
    return this.nest.get(TenantService).create({
      subdomain: input.subdomain ?? `t-${randomBytes(5).toString('hex')}`,
      planType: input.planType ?? PlanType.team,
      aiKeyMode: input.aiKeyMode ?? AiKeyMode.byok,
    });
  }

  async newWorkspace(tenantId: string, name = 'Inbox'): Promise<Workspace> {
    return this.nest.get(WorkspaceService).create(PLATFORM_SCOPE, tenantId, name);
  }
}

/**
 * A test file's world: its own database (cloned from the migrated template), its own Redis prefix,
 * the libs wired as in production, and captured logs.
 */
export class MediumContext extends Factories {
  private constructor(
    readonly app: INestApplicationContext,
    readonly config: AppConfig,
    readonly database: TestDatabase,
    readonly logs: LogCapture,
    private readonly ownsDatabase: boolean,
  ) {
    super(app);
  }

  /** `database` shares another context's database (e.g. a second process with other master keys). */
  static async create(options: { env?: Record<string, string | undefined>; imports?: Type[]; database?: TestDatabase } = {}): Promise<MediumContext> {
    const database = options.database ?? (await createTestDatabase());
    const config = testConfig(database.url, options.env);
    const logs = fileLogs;
    const moduleRef = await Test.createTestingModule({
      imports: [InfrastructureModule.forRoot(config, { destination: logs }), TenancyModule, ByokModule, ...(options.imports ?? [])],
    }).compile();
    const app = moduleRef.createNestApplication({ bufferLogs: true });
    app.useLogger(app.get(PinoLoggerService));
    await app.init();
    await app.get(CacheInvalidationBus).ready();
    return new MediumContext(app, config, database, logs, !options.database);
  }

  get<T>(type: Type<T> | string | symbol): T {
    return this.app.get(type);
  }

  get prisma(): PrismaService {
    return this.app.get(PrismaService);
  }

  async close(): Promise<void> {
    await this.app.close();
    await deleteRedisPrefix(this.config.redisUrl, this.config.redisPrefix);
    if (this.ownsDatabase) await this.database.drop();
  }
}

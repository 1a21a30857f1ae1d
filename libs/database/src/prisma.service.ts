import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { AppConfig } from '#libs/config';
import { PrismaClient } from './generated/client.js';

/** How long (ms) a query waits for a new connection: while Postgres is away, requests fail fast (503) instead of hanging. */
const CONNECT_TIMEOUT_MS = 1_500;

/** The one Prisma client of a process. Only repositories use it; services never touch it directly. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(config: AppConfig) {
    super({
      adapter: new PrismaPg({ connectionString: config.databaseUrl, max: config.databasePoolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}

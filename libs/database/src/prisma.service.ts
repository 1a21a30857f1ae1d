import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { AppConfig } from '#libs/config';
import { PrismaClient } from './generated/client.js';

/** How long (ms) a query waits for a new connection: while Postgres is away, requests fail fast (503) instead of hanging. */
const CONNECT_TIMEOUT_MS = 1_500;
/**
 * Every session runs in UTC whatever the server's or database's TimeZone (an operator's is often the
 * host's zone): the adapter reads timestamptz values as UTC, and usage days and budget periods are UTC.
 */
export const SESSION_OPTIONS = '-c TimeZone=UTC';

/** The one Prisma client of a process. Only repositories use it; services never touch it directly. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(config: AppConfig) {
    super({
      adapter: new PrismaPg({
        connectionString: config.databaseUrl,
        max: config.databasePoolSize,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        options: SESSION_OPTIONS,
      }),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}

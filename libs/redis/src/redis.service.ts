import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { AppConfig } from '#libs/config';

/**
 * Owns this process's Redis connections. `client` serves commands; BullMQ and subscribers ask for
 * their own with `duplicate()` because a subscribed connection can do nothing else.
 */
@Injectable()
export class RedisService implements OnModuleDestroy {
  readonly client: Redis;
  private readonly extra: Redis[] = [];

  constructor(private readonly config: AppConfig) {
    this.client = new Redis(config.redisUrl, this.options());
  }

  /** Scopes a key or channel name to this deployment. */
  key(...parts: string[]): string {
    return [this.config.redisPrefix, ...parts].join(':');
  }

  duplicate(overrides: RedisOptions = {}): Redis {
    const connection = new Redis(this.config.redisUrl, { ...this.options(), ...overrides });
    this.extra.push(connection);
    return connection;
  }

  async ping(): Promise<boolean> {
    return (await this.client.ping()) === 'PONG';
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.client, ...this.extra].map((c) => c.quit().catch(() => c.disconnect())));
  }

  private options(): RedisOptions {
    // fail commands quickly while Redis is away instead of queueing them without bound
    return { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 2_000 };
  }
}

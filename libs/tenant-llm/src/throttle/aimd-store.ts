import type { Redis } from 'ioredis';
import type { RedisService } from '#libs/redis';
import type { AimdController, AimdState } from './aimd.js';
import type { KeyRef } from './key-limits.js';

/** How long (ms) a process trusts the rate it read for a key before reading it again. */
const READ_TTL_MS = 1_000;
/** A key left alone this long (ms) forgets it was slowed down. */
const STATE_TTL_MS = 15 * 60_000;
const MAX_TRIES = 5;

/**
 * Each key's AIMD state in Redis (a hash per provider and fingerprint), shared by every worker: read
 * at most once a second per process, changed with WATCH/MULTI so the rule (AimdController, plain
 * code) runs on the state every other process sees, never on a stale copy. Changes are serialized on
 * a connection of their own (WATCH belongs to a connection).
 */
export class AimdStore {
  private readonly cached = new Map<string, { state: AimdState; readAt: number }>();
  private readonly rising = new Set<string>();
  private connection: Redis | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: RedisService,
    private readonly controller: AimdController,
  ) {}

  /** The key's current share of its configured rate (fresh from Redis with `fresh`, else read at most once a second). */
  async fraction(key: KeyRef, fresh = false): Promise<number> {
    return (await this.state(key, fresh)).fraction;
  }

  /** Applies a 429; the new fraction when it changed. */
  async rateLimited(key: KeyRef): Promise<number | undefined> {
    return this.change(key, (state) => this.controller.rateLimited(state));
  }

  /** Applies a success (one change in flight per key and process; most successes change nothing and cost no Redis call). */
  async succeeded(key: KeyRef): Promise<number | undefined> {
    const id = this.keyOf(key);
    if (this.rising.has(id) || !this.controller.wouldIncrease(await this.state(key))) return undefined;
    this.rising.add(id);
    try {
      return await this.change(key, (state) => this.controller.succeeded(state));
    } finally {
      this.rising.delete(id);
    }
  }

  private async state(key: KeyRef, fresh = false): Promise<AimdState> {
    const id = this.keyOf(key);
    const cached = this.cached.get(id);
    if (!fresh && cached && Date.now() - cached.readAt < READ_TTL_MS) return cached.state;
    let state: AimdState;
    try {
      state = parse(await this.redis.client.hgetall(id)) ?? this.controller.initial();
    } catch {
      state = cached?.state ?? this.controller.initial();
    }
    this.cached.set(id, { state, readAt: Date.now() });
    return state;
  }

  private change(key: KeyRef, rule: (state: AimdState) => AimdState): Promise<number | undefined> {
    const run = this.queue.then(() => this.transact(this.keyOf(key), rule));
    this.queue = run.catch(() => undefined);
    return run.catch(() => undefined);
  }

  private async transact(id: string, rule: (state: AimdState) => AimdState): Promise<number | undefined> {
    this.connection ??= this.redis.duplicate();
    const connection = this.connection;
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      await connection.watch(id);
      const current = parse(await connection.hgetall(id)) ?? this.controller.initial();
      const next = rule(current);
      if (next === current) {
        await connection.unwatch();
        this.cached.set(id, { state: current, readAt: Date.now() });
        return undefined;
      }
      const done = await connection
        .multi()
        .hset(id, { fraction: next.fraction, changedAt: next.changedAt, decreasedAt: next.decreasedAt })
        .pexpire(id, STATE_TTL_MS)
        .exec();
      if (done) {
        this.cached.set(id, { state: next, readAt: Date.now() });
        return next.fraction;
      }
    }
    return undefined;
  }

  private keyOf(key: KeyRef): string {
    return this.redis.key('provider-rate', 'aimd', key.provider, key.fingerprint);
  }
}

function parse(hash: Record<string, string>): AimdState | undefined {
  const fraction = Number(hash.fraction);
  if (!Number.isFinite(fraction) || fraction <= 0) return undefined;
  return { fraction, changedAt: Number(hash.changedAt) || 0, decreasedAt: Number(hash.decreasedAt) || 0 };
}

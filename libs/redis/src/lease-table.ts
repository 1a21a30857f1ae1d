import type { Redis } from 'ioredis';
import type { RedisService } from './redis.service.js';

// KEYS[1] the group's leases, KEYS[2] the table's index of groups; ARGV: now, lease id, expiry, limit, group, ttl
const ACQUIRE = `
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
local held = redis.call('zscore', KEYS[1], ARGV[2])
if not held and redis.call('zcard', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('zadd', KEYS[1], ARGV[3], ARGV[2])
redis.call('pexpire', KEYS[1], ARGV[6])
local latest = redis.call('zscore', KEYS[2], ARGV[5])
if not latest or tonumber(latest) < tonumber(ARGV[3]) then redis.call('zadd', KEYS[2], ARGV[3], ARGV[5]) end
redis.call('pexpire', KEYS[2], ARGV[6])
return 1`;

// KEYS as ACQUIRE; ARGV: lease id, group
const RELEASE = `
redis.call('zrem', KEYS[1], ARGV[1])
if redis.call('zcard', KEYS[1]) == 0 then redis.call('zrem', KEYS[2], ARGV[2]) end
return 1`;

// KEYS[1] the index; ARGV: now, the key prefix of groups. Returns group, count, group, count...
const CENSUS = `
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, group in ipairs(redis.call('zrange', KEYS[1], 0, -1)) do
  local key = ARGV[2] .. group
  redis.call('zremrangebyscore', key, '-inf', ARGV[1])
  local n = redis.call('zcard', key)
  if n == 0 then redis.call('zrem', KEYS[1], group) else table.insert(out, group); table.insert(out, n) end
end
return out`;

interface LeaseCommands {
  leaseAcquire(group: string, index: string, ...args: (string | number)[]): Promise<number>;
  leaseRelease(group: string, index: string, ...args: (string | number)[]): Promise<number>;
  leaseCensus(index: string, ...args: (string | number)[]): Promise<(string | number)[]>;
}

/**
 * Counted leases held in Redis, shared by every process: per group (e.g. a tenant) a sorted set of
 * lease ids scored by their expiry (ms since the epoch). A lease is taken only while the group holds
 * fewer than a limit, lives until it is released or its holder stops renewing it, so a process that
 * dies never keeps one for longer than its time to live. Every change is one Lua script, atomic
 * against every other process. Keys: `<prefix>:leases:<table>:<group>` and the index of live groups
 * `<prefix>:leases:<table>`; nothing but ids is stored.
 */
export class LeaseTable {
  private readonly client: Redis & LeaseCommands;
  private readonly index: string;

  constructor(
    redis: RedisService,
    readonly table: string,
  ) {
    this.client = defineLeaseCommands(redis.client);
    this.index = redis.key('leases', table);
  }

  /**
   * Takes (or keeps) lease `leaseId` in `group` for `ttlMs` if the group holds fewer than `limit`
   * live leases; a lease already held is renewed whatever the limit.
   * @returns whether the lease is held now
   */
  async acquire(group: string, leaseId: string, limit: number, ttlMs: number, now = Date.now()): Promise<boolean> {
    const held = await this.client.leaseAcquire(this.keyOf(group), this.index, now, leaseId, now + ttlMs, limit, group, ttlMs);
    return held === 1;
  }

  /** Extends a held lease by `ttlMs` from now (one that expired meanwhile is taken again, whatever the limit: its holder is alive). */
  async renew(group: string, leaseId: string, ttlMs: number, now = Date.now()): Promise<void> {
    await this.client.leaseAcquire(this.keyOf(group), this.index, now, leaseId, now + ttlMs, Number.MAX_SAFE_INTEGER, group, ttlMs);
  }

  async release(group: string, leaseId: string): Promise<void> {
    await this.client.leaseRelease(this.keyOf(group), this.index, leaseId, group);
  }

  /** Live leases per group, for every group that holds one. */
  async census(now = Date.now()): Promise<Map<string, number>> {
    const flat = await this.client.leaseCensus(this.index, now, `${this.index}:`);
    const counts = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) counts.set(String(flat[i]), Number(flat[i + 1]));
    return counts;
  }

  private keyOf(group: string): string {
    return `${this.index}:${group}`;
  }
}

function defineLeaseCommands(client: Redis): Redis & LeaseCommands {
  const commands = client as Redis & Partial<LeaseCommands>;
  if (!commands.leaseAcquire) {
    client.defineCommand('leaseAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    client.defineCommand('leaseRelease', { numberOfKeys: 2, lua: RELEASE });
    client.defineCommand('leaseCensus', { numberOfKeys: 1, lua: CENSUS });
  }
  return commands as Redis & LeaseCommands;
}

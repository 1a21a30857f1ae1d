import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { ByokKeyStore, ByokModule, KeyResolver } from '#libs/byok';
import { InfrastructureModule } from '#libs/infrastructure';
import { TenancyModule, TenantResolver } from '#libs/tenancy';
import { createTestDatabase, deleteRedisPrefix, Factories, testConfig } from '#libs/testing';
import { fmt, summarize } from './stats.js';

/**
 * workspace id -> tenant -> decrypted key, the path every job takes before its first provider call.
 * Cold: caches empty (two Postgres round trips and a decrypt). Warm: cached rows, decrypt only.
 * Targets on a 2-core machine: warm p50 <= 20 us, cold p50 <= 2 ms against local Postgres.
 */
const TENANTS = Number(process.env.BENCH_TENANTS ?? 2_000);
const WARM_ROUNDS = Number(process.env.BENCH_WARM_ROUNDS ?? 50);

const database = await createTestDatabase();
const config = testConfig(database.url, { LOG_LEVEL: 'warn' });

@Module({ imports: [InfrastructureModule.forRoot(config), TenancyModule, ByokModule] })
class BenchModule {}

const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
try {
  const factories = new Factories(app);
  const store = app.get(ByokKeyStore);
  const workspaces: string[] = [];
  for (let i = 0; i < TENANTS; i++) {
    const tenant = await factories.newTenant();
    await store.put(tenant.id, 'OPENAI_API_KEY', `sk-bench-${randomBytes(24).toString('hex')}`);
    workspaces.push((await factories.newWorkspace(tenant.id)).id);
  }
  const tenants = app.get(TenantResolver);
  const keys = app.get(KeyResolver);
  const resolveOnce = async (workspaceId: string) => {
    const tenant = await tenants.resolve(workspaceId);
    return keys.resolve({ tenantId: tenant.tenantId, provider: 'openai' });
  };

  // nothing has been resolved yet: every first lookup below misses both caches
  const cold: bigint[] = [];
  for (const workspaceId of workspaces) {
    const start = process.hrtime.bigint();
    await resolveOnce(workspaceId);
    cold.push(process.hrtime.bigint() - start);
  }
  const warm: bigint[] = [];
  for (let round = 0; round < WARM_ROUNDS; round++) {
    for (const workspaceId of workspaces) {
      const start = process.hrtime.bigint();
      await resolveOnce(workspaceId);
      warm.push(process.hrtime.bigint() - start);
    }
  }

  const c = summarize(cold);
  const w = summarize(warm);
  console.log(`key resolution: workspace -> tenant -> decrypted key (${TENANTS} tenants, Node ${process.version})`);
  console.log(`  cold: p50 ${fmt(c.p50)} us  p99 ${fmt(c.p99)} us  ${fmt(c.opsPerSec, 0)} resolutions/s  (n=${cold.length}; target p50 <= 2000 us)`);
  console.log(`  warm: p50 ${fmt(w.p50)} us  p99 ${fmt(w.p99)} us  ${fmt(w.opsPerSec, 0)} resolutions/s  (n=${warm.length}; target p50 <= 20 us)`);
} finally {
  await app.close();
  await deleteRedisPrefix(config.redisUrl, config.redisPrefix);
  await database.drop();
}

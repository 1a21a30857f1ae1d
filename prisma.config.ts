// The Prisma 7 CLI otherwise downloads a native schema engine, which this project never needs:
// `prisma generate` runs without it, and migrations are applied by libs/database's runner.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/false';
process.env.CHECKPOINT_DISABLE ??= '1';

import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});

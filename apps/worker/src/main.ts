import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { loadConfigOrExit } from '#libs/config';
import { applyMigrations } from '#libs/database';
import { createWorkerApp } from './bootstrap.js';

loadDotenv({ quiet: true });
const config = loadConfigOrExit(process.env);
await applyMigrations(config.databaseUrl);
const app = await createWorkerApp(config);
await app.init();

// SIGTERM/SIGINT: the jobs in flight commit their page and go back to the queue (JobWorkers), then
// the process exits 0, so a supervisor sees a clean stop; a second signal does not cut that short
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

import 'reflect-metadata';
import { loadConfigOrExit } from '#libs/config';
import { applyMigrations } from '#libs/database';
import { createWorkerApp } from './bootstrap.js';

const config = loadConfigOrExit(process.env);
await applyMigrations(config.databaseUrl);
const app = await createWorkerApp(config);
await app.init();

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

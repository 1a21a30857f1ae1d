import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { loadConfigOrExit } from '#libs/config';
import { applyMigrations } from '#libs/database';
import { createApiApp } from './bootstrap.js';

loadDotenv({ quiet: true });
const config = loadConfigOrExit(process.env);
await applyMigrations(config.databaseUrl);
const app = await createApiApp(config);
await app.listen(config.port);

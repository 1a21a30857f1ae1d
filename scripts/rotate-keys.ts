import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ByokModule, KeyRotationService } from '#libs/byok';
import { loadConfigOrExit } from '#libs/config';
import { applyMigrations } from '#libs/database';
import { InfrastructureModule } from '#libs/infrastructure';
import { PinoLoggerService } from '#libs/logging';
import { MailboxModule, MailboxSecretRotation } from '#libs/mailbox';
import { WebhookSecretRotation, WebhooksModule } from '#libs/webhooks';
import { config as loadDotenv } from 'dotenv';
import { Module } from '@nestjs/common';

/**
 * `npm run keys:rotate`: re-encrypts every stored key, webhook signing secret and mailbox secret under BYOK_ACTIVE_KEY_VERSION. Safe while the
 * service runs (rows changed meanwhile are left alone; caches everywhere are told). Add the new
 * version to BYOK_MASTER_KEYS and make it active first; remove the old one only after this reports 0 failed.
 */
loadDotenv({ quiet: true });
const config = loadConfigOrExit(process.env);
await applyMigrations(config.databaseUrl);

@Module({ imports: [InfrastructureModule.forRoot(config), ByokModule, WebhooksModule, MailboxModule] })
class RotateKeysModule {}

const app = await NestFactory.createApplicationContext(RotateKeysModule, { bufferLogs: true });
app.useLogger(app.get(PinoLoggerService));
const batchSize = Number(process.argv[2] ?? 500);
const report = await app.get(KeyRotationService).rotateAll(batchSize);
const webhooks = await app.get(WebhookSecretRotation).rotateAll(batchSize);
const mailboxes = await app.get(MailboxSecretRotation).rotateAll(batchSize);
process.stdout.write(`${JSON.stringify({ ...report, webhookSecrets: webhooks, mailboxSecrets: mailboxes })}\n`);
await app.close();
process.exit(report.failed + webhooks.failed + mailboxes.failed > 0 ? 2 : 0);

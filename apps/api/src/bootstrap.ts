import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '#libs/config';
import type { LoggingOptions } from '#libs/logging';
import { ApiModule } from './api.module.js';
import { createValidationPipe } from './http/validation.js';
import { contentTypeOf, isUploadPath, UPLOAD_LIMIT_BYTES } from './records/records.dto.js';

const BYOK_HEADERS = ['Authorization', 'Content-Type', 'X-API-Key', 'X-User-Provider', 'X-User-Api-Key', 'X-Request-Id'];

/** Builds the HTTP app exactly as production runs it; tests use the same function. */
export async function createApiApp(config: AppConfig, logging: LoggingOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, logging), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: '1mb', type: (req) => !isUploadPath(req) && contentTypeOf(req).mediaType === 'application/json' });
  // Upload routes get their body as bytes (their controller decides by content type; multipart is left
  // to multer, after the auth guard). A request without credentials is not even read: the guard refuses it.
  app.useBodyParser('raw', {
    limit: UPLOAD_LIMIT_BYTES,
    type: (req) => isUploadPath(req) && !contentTypeOf(req).mediaType.startsWith('multipart/') && req.headers.authorization !== undefined,
  });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  app.enableCors({ origin: config.corsOrigins.length ? [...config.corsOrigins] : false, allowedHeaders: BYOK_HEADERS, maxAge: 600 });
  app.disable('x-powered-by');

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('BYOK LLM backend')
      .setDescription('Multi-tenant LLM jobs that always run with the key of the tenant that owns the data.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

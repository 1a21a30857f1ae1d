import { Module } from '@nestjs/common';
import { KeyValidator } from './key-validator.js';
import { LlmClientFactory } from './llm-client.factory.js';

/** Imports nothing: AppConfig comes from the global ConfigModule. */
@Module({
  providers: [LlmClientFactory, KeyValidator],
  exports: [LlmClientFactory, KeyValidator],
})
export class LlmModule {}

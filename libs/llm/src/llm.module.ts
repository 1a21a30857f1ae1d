import { Module } from '@nestjs/common';
import { KeyValidator } from './key-validator.js';
import { LlmClientFactory } from './llm-client.factory.js';
import { ConfigurableLlmModule } from './llm-options.js';

/**
 * The provider layer, registered once with its LlmOptions (`LlmModule.register` or
 * `registerAsync`): base URLs and a timeout, nothing else.
 */
@Module({
  providers: [LlmClientFactory, KeyValidator],
  exports: [LlmClientFactory, KeyValidator],
})
export class LlmModule extends ConfigurableLlmModule {}

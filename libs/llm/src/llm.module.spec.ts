import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ConfigModule } from '#libs/config';
import { testConfig } from '#libs/testing';
import { KeyValidator } from './key-validator.js';
import { LlmClientFactory } from './llm-client.factory.js';
import { LlmModule } from './llm.module.js';

describe('LlmModule', () => {
  it('provides the factory and the validator with the global configuration', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(testConfig('postgresql://unused/db')), LlmModule],
    }).compile();

    expect(moduleRef.get(LlmClientFactory)).toBeInstanceOf(LlmClientFactory);
    expect(moduleRef.get(KeyValidator)).toBeInstanceOf(KeyValidator);
    await moduleRef.close();
  });
});

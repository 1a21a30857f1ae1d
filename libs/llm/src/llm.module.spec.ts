import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { KeyValidator } from './key-validator.js';
import { LlmClientFactory } from './llm-client.factory.js';
import { LlmModule } from './llm.module.js';

describe('LlmModule', () => {
  it('provides the factory and the validator with only its own options', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LlmModule.registerAsync({ useFactory: () => ({ baseUrls: {}, timeoutMs: 1_000 }) })],
    }).compile();

    expect(moduleRef.get(LlmClientFactory)).toBeInstanceOf(LlmClientFactory);
    expect(moduleRef.get(KeyValidator)).toBeInstanceOf(KeyValidator);
    await moduleRef.close();
  });
});

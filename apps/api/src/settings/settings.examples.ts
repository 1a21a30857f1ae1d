import type { z } from 'zod';
import { EXAMPLE, EXAMPLE_KEY_TRACE } from '../http/example-values.js';
import type { settingView, validationView } from './settings.dto.js';

/** Example answers of the settings routes (documentation only; checked against their views at load). */
export const secretSettingExample: z.output<typeof settingView> = {
  key: 'OPENAI_API_KEY',
  isSecret: true,
  ...EXAMPLE_KEY_TRACE,
  validationStatus: 'valid',
  validatedAt: EXAMPLE.startedAt,
  updatedAt: EXAMPLE.createdAt,
};

export const plainSettingExample: z.output<typeof settingView> = {
  key: 'OPENAI_MODEL',
  isSecret: false,
  value: 'gpt-4o-mini',
  last4: null,
  fingerprint: null,
  validationStatus: 'unknown',
  validatedAt: null,
  updatedAt: EXAMPLE.createdAt,
};

export const validationExample: z.output<typeof validationView> = { status: 'valid', provider: 'openai', checkedAt: EXAMPLE.startedAt };

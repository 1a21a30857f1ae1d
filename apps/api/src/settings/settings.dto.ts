import { z } from 'zod';
import { PROVIDER_IDS } from '#libs/common';
import { ValidationStatus } from '#libs/database';

export const putSettingBody = z.strictObject({
  // the value's own rules (a string, trimmed, no whitespace inside, at most 512 characters) belong to
  // the setting's definition in libs/byok, which judges it without ever quoting it
  value: z
    .unknown()
    .refine((value) => value !== undefined, { error: 'value is required' })
    .meta({ type: 'string', description: 'The key or value; at most 512 characters, no whitespace or control characters inside' }),
});
export type PutSettingBody = z.output<typeof putSettingBody>;

export const settingView = z.object({
  key: z.string().meta({ example: 'OPENAI_API_KEY' }),
  isSecret: z.boolean(),
  value: z.string().optional().meta({ description: 'Only for non-secret settings' }),
  last4: z.string().nullable(),
  fingerprint: z.string().nullable().meta({ description: 'HMAC-SHA256 of the key' }),
  validationStatus: z.enum(ValidationStatus),
  validatedAt: z.date().nullable(),
  updatedAt: z.date(),
});

export const validationView = z.object({ status: z.enum(['valid', 'invalid']), provider: z.enum(PROVIDER_IDS), checkedAt: z.date() });

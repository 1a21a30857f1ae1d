import { z } from 'zod';
import { uuidSchema } from '#libs/common';
import { TokenScope } from '#libs/database';
import { DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, type IssuedToken, type TokenInfo } from '#libs/tenancy';

const expiresInDays = z
  .number({ error: 'expiresInDays must be a whole number of days' })
  .int({ error: 'expiresInDays must be a whole number of days' })
  .min(1, { error: 'expiresInDays must be at least 1' })
  .max(MAX_TOKEN_DAYS, { error: `expiresInDays must be at most ${MAX_TOKEN_DAYS}` });

export const createTokenBody = z
  .strictObject({
    name: z
      .string({ error: 'name must be a string' })
      .trim()
      .min(1, { error: 'name must not be empty' })
      .max(100, { error: 'name must be at most 100 characters' })
      // shown in lists and the audit log: no control characters to forge lines with
      .regex(/^[^\p{Cc}]*$/u, { error: 'name must not contain control characters' })
      .default('token')
      .meta({ example: 'CI deploys', description: 'A label to tell tokens apart' }),
    scope: z
      .enum(TokenScope, { error: `scope must be one of ${Object.values(TokenScope).join(', ')}` })
      .default(TokenScope.admin)
      .meta({ description: 'admin: everything within the tenant; read: GET requests only' }),
    expiresInDays: expiresInDays.default(DEFAULT_TOKEN_DAYS).meta({ description: `Lifetime in days, 1..${MAX_TOKEN_DAYS}` }),
  })
  .default({ name: 'token', scope: TokenScope.admin, expiresInDays: DEFAULT_TOKEN_DAYS });
export type CreateTokenBody = z.output<typeof createTokenBody>;

export const rotateTokenBody = z
  .strictObject({
    expiresInDays: expiresInDays.optional().meta({ description: 'Lifetime of the new token in days; default: that of the old one' }),
  })
  .default({});
export type RotateTokenBody = z.output<typeof rotateTokenBody>;

export const tokenInfoView = z.object({
  id: uuidSchema(),
  name: z.string(),
  scope: z.enum(TokenScope),
  prefix: z.string().nullable().meta({ description: 'The first characters of the token, to tell it apart; never the token' }),
  createdAt: z.date(),
  expiresAt: z.date(),
  lastUsedAt: z.date().nullable().meta({ description: 'Refreshed at most once a minute' }),
  revokedAt: z.date().nullable(),
});

export const issuedTokenView = tokenInfoView.extend({ token: z.string().meta({ description: 'Shown once; only its hash is kept' }) });
export type IssuedTokenView = z.output<typeof issuedTokenView>;

export const tokenListView = z.object({ items: z.array(tokenInfoView) });

export function toIssuedTokenView(issued: IssuedToken): IssuedTokenView {
  return { token: issued.token, ...issued.info };
}

export function toTokenListView(items: TokenInfo[]): { items: TokenInfo[] } {
  return { items };
}

import { EXAMPLE, EXAMPLE_TOKEN_PREFIX } from '../http/example-values.js';
import type { IssuedTokenView } from './tokens.dto.js';

/** Example answers of the token routes (documentation only; checked against their views at load). */
export const issuedTokenExample: IssuedTokenView = {
  id: EXAMPLE.tokenId,
  name: 'CI deploys',
  scope: 'admin',
  prefix: EXAMPLE_TOKEN_PREFIX,
  createdAt: EXAMPLE.createdAt,
  expiresAt: new Date('2026-05-31T09:15:00.000Z'),
  lastUsedAt: null,
  revokedAt: null,
  token: EXAMPLE.token,
};

const { token: _shownOnce, ...tokenInfo } = issuedTokenExample;

export const tokenListExample = { items: [{ ...tokenInfo, lastUsedAt: EXAMPLE.finishedAt }] };

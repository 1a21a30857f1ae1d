import { Api, ApiError, messageOf } from './api.js';
import type { Me, Tenant } from './types.js';

/** Verifies a token with GET /v1/me: only a tenant admin token opens the dashboard. */
export async function verifyToken(token: string): Promise<Tenant> {
  let me: Me;
  try {
    me = await new Api(token).get<Me>('/v1/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      throw new Error('This token was not accepted. Check that you pasted the whole tenant admin token and that it has not been revoked.', {
        cause: error,
      });
    }
    throw new Error(messageOf(error), { cause: error });
  }
  if (me.kind !== 'tenant') {
    throw new Error(
      'This is the platform admin token. The dashboard works for one tenant at a time: sign in with a tenant admin token (an admin creates one with POST /v1/tenants/:tenantId/tokens).',
    );
  }
  return me.tenant;
}

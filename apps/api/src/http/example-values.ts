/**
 * Shared example values of the OpenAPI document, so the examples of every route tell one story: one
 * tenant, its workspace, its jobs, at the same times. Clearly made up: no example holds a secret.
 */
export const EXAMPLE = {
  tenantId: '3f2b8c1e-7a4d-4e9b-9c2a-1d5e6f7a8b9c',
  otherTenantId: '5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  workspaceId: '8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d',
  jobId: 'c4d5e6f7-8a9b-4c0d-8e1f-2a3b4c5d6e7f',
  secondJobId: 'd5e6f7a8-9b0c-4d1e-9f2a-3b4c5d6e7f80',
  tokenId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  webhookId: '6e7f8a9b-0c1d-4e2f-a3b4-c5d6e7f8a9b0',
  recordId: '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  entityId: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
  otherEntityId: '7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a',
  deliveryId: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b',
  /** When the story starts, and moments after (ISO 8601, UTC). */
  createdAt: new Date('2026-03-02T09:15:00.000Z'),
  startedAt: new Date('2026-03-02T09:20:00.000Z'),
  finishedAt: new Date('2026-03-02T09:26:41.000Z'),
  /** A token as issued: the prefix and 43 x's, plainly not a real one. */
  token: `tt_${'x'.repeat(43)}`,
} as const;

/** A key's traces as the API shows them (last4 and an HMAC-SHA256 fingerprint, never the key). */
export const EXAMPLE_KEY_TRACE = { last4: 'x7Qa', fingerprint: '4b1c8e0f2a6d93b75e0c1f8a2d4b6e9c3a7f1d5b8e2c4a6f9d0b3e7c1a5f8d2b' } as const;

/** A token's first characters as lists show them (`tt_` and 6 more). */
export const EXAMPLE_TOKEN_PREFIX = 'tt_xxxxxx';

/**
 * A safety net beneath the rule that code never logs keys: whatever reaches the logger under these
 * paths is replaced before it is written.
 */
export const REDACTED = '[REDACTED]';

const SECRET_FIELDS = ['apiKey', 'api_key', 'requestKey', 'key', 'secret', 'token', 'password', 'authorization', 'plaintext'];

export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-user-api-key"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
];

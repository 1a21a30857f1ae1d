import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'dotenv';

/**
 * First run: writes a git-ignored `.env` with fresh master keys and an admin token, so
 * `npm start` works on a fresh clone. An existing `.env` is never overwritten (nor one another start
 * writes at the same moment: that one is read).
 */
export function ensureLocalEnv(path: string, env: NodeJS.ProcessEnv): { created: boolean; values: Record<string, string> } {
  if (existsSync(path)) return { created: false, values: parse(readFileSync(path)) };
  if (env.BYOK_MASTER_KEYS) return { created: false, values: {} };
  const values = {
    BYOK_MASTER_KEYS: `v1:${randomBytes(32).toString('base64')}`,
    BYOK_ACTIVE_KEY_VERSION: 'v1',
    BYOK_FINGERPRINT_KEY: randomBytes(32).toString('base64'),
    ADMIN_API_TOKEN: randomBytes(32).toString('base64url'),
  };
  const text = [
    '# Written by `npm start` on first run. Keep it secret; never commit it.',
    '# Losing BYOK_MASTER_KEYS makes every stored tenant key unreadable.',
    ...Object.entries(values).map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // a second start at the same moment wrote it first: its keys are the ones to keep
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { created: false, values: parse(readFileSync(path)) };
    throw error;
  }
  return { created: true, values };
}

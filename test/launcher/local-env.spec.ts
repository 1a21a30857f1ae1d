import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ensureLocalEnv } from '../../scripts/local-env.js';

describe("npm start's first-run .env", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-env-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is written once (owner-only), then read: a later start, or one racing it, keeps the same keys', () => {
    const path = join(dir, '.env');
    const first = ensureLocalEnv(path, {});
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Object.keys(first.values)).toEqual(['BYOK_MASTER_KEYS', 'BYOK_ACTIVE_KEY_VERSION', 'BYOK_FINGERPRINT_KEY', 'ADMIN_API_TOKEN']);
    expect(ensureLocalEnv(path, {})).toEqual({ created: false, values: first.values });
  });

  it('is not written when the environment already holds the master keys', () => {
    const path = join(dir, '.env');
    expect(ensureLocalEnv(path, { BYOK_MASTER_KEYS: 'v1:x' })).toEqual({ created: false, values: {} });
    expect(existsSync(path)).toBe(false);
  });
});

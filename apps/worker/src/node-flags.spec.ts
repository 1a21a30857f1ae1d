import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKER_NODE_FLAGS } from './node-flags.js';

describe('WORKER_NODE_FLAGS', () => {
  it('are exactly the flags of npm run start:worker', () => {
    const packageJson = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json');
    const { scripts } = JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts: Record<string, string> };
    expect(scripts['start:worker']).toBe(['node', ...WORKER_NODE_FLAGS, 'dist/apps/worker/src/main.js'].join(' '));
  });

  it('cap the old space and the young generation', () => {
    expect(WORKER_NODE_FLAGS).toEqual(
      expect.arrayContaining([expect.stringMatching(/^--max-old-space-size=\d+$/), expect.stringMatching(/^--max-semi-space-size=\d+$/)]),
    );
  });
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';

/** scripts/build-if-stale.mjs --check on a made-up tree whose mtimes the test sets. */
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'build-if-stale.mjs');
const BUILT_AT = 1_800_000_000_000;

describe('build-if-stale --check', () => {
  let root: string;

  const check = () => spawnSync(process.execPath, [SCRIPT, '--check', '--root', root], { encoding: 'utf8' }).stdout.trim();
  const file = (path: string, mtimeMs: number) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), 'x');
    utimesSync(join(root, path), mtimeMs / 1000, mtimeMs / 1000);
  };
  // what a build begun at BUILT_AT leaves behind
  const stamp = () => {
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, 'dist/.build-stamp'), `${BUILT_AT}\n`);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'stale-'));
    file('package.json', BUILT_AT - 60_000);
    file('apps/api/src/main.ts', BUILT_AT - 60_000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is stale without a stamp (never built, or the last build failed)', () => {
    expect(check()).toBe('stale');
  });

  it('is fresh when every source is older than the stamped build', () => {
    stamp();
    expect(check()).toBe('fresh');
  });

  it.each([
    'apps/api/src/main.ts',
    'libs/x/src/y.ts',
    'scripts/start.ts',
    'bench/b.ts',
    'prisma/schema.prisma',
    'package-lock.json',
    'tsconfig.build.json',
    'apps/api/dashboard/src/main.ts',
  ])('is stale once %s changed after the build began', (path) => {
    stamp();
    writeFileSync(join(root, 'dist/.build-stamp'), `${BUILT_AT}\n`);
    file(path, BUILT_AT + 1_000);
    expect(check()).toBe('stale');
  });

  it.each(['libs/database/src/generated/client.ts', 'apps/api/test/x.e2e-spec.ts', 'libs/x/src/y.spec.ts', 'node_modules/p/index.js', 'README.md'])(
    'stays fresh when %s changed (not a build input)',
    (path) => {
      stamp();
      file(path, BUILT_AT + 1_000);
      expect(check()).toBe('fresh');
    },
  );
});

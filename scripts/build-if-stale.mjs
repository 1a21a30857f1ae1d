// Rebuilds only when a source changed since the last build, so `npm start` (and the bench, simulator and
// keys scripts) restart in a second or two instead of waiting ~20 s for tsc, prisma generate and esbuild.
// Plain Node, no TypeScript step: it runs before the build exists.
//
//   node scripts/build-if-stale.mjs [--check | --always] [--root DIR]
//
// Stale means: no stamp (dist/.build-stamp, written after a successful build), or a source whose mtime is
// at or after the time the stamped build started. Sources: apps, libs, scripts, bench, prisma (minus
// tests, node_modules and Prisma's generated client), package.json, package-lock.json, tsconfig*.json.
// --check prints `fresh` or `stale` and exits 0 or 1 without building; --always builds whatever the stamp says
// (`npm run build`), so a build by hand also leaves a stamp. The root is the working directory (npm runs
// scripts in the package's folder), not this file's: in a copy of the clone made of symlinks, the copy.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const SOURCE_DIRS = ['apps', 'libs', 'scripts', 'bench', 'prisma'];
const SKIPPED_DIRS = new Set(['node_modules', 'generated', '.data', 'dist']);
const SKIPPED_FILE = /\.(spec|e2e-spec)\.ts$/;
const STAMP = join('dist', '.build-stamp');

/** Newest mtime (ms since the epoch) of the build's sources under `root`; 0 when there are none. */
export function newestSourceMtime(root) {
  let newest = 0;
  const visit = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) visit(full);
      } else if (entry.isFile() && !SKIPPED_FILE.test(entry.name)) {
        newest = Math.max(newest, statSync(full).mtimeMs);
      }
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) visit(join(root, dir));
  for (const name of readdirSync(root)) {
    if (name === 'package.json' || name === 'package-lock.json' || /^tsconfig.*\.json$/.test(name)) {
      newest = Math.max(newest, statSync(join(root, name)).mtimeMs);
    }
  }
  return newest;
}

/** Whether `root` needs a build: no stamp, an unreadable one, or a source changed since the stamped build began. */
export function isStale(root) {
  const stampPath = join(root, STAMP);
  if (!existsSync(stampPath)) return true;
  const builtFrom = Number(readFileSync(stampPath, 'utf8').trim());
  if (!Number.isFinite(builtFrom) || builtFrom <= 0) return true;
  return newestSourceMtime(root) >= builtFrom;
}

/** Records that the build begun at `startedAt` (ms) succeeded. */
export function writeStamp(root, startedAt) {
  writeFileSync(join(root, STAMP), `${Math.floor(startedAt)}\n`);
}

/** Runs `npm run build:all` in `root` when stale (or `always`); returns whether it built. Exits the process with npm's code when the build fails. */
export function buildIfStale(root, always = false) {
  if (!always && !isStale(root)) return false;
  // the start time, not the end: a file saved while tsc ran makes the next check stale
  const startedAt = Date.now();
  const result = spawnSync('npm', ['run', 'build:all'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeStamp(root, startedAt);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const root = args.includes('--root') ? resolve(args[args.indexOf('--root') + 1]) : process.cwd();
  if (args.includes('--check')) {
    const stale = isStale(root);
    process.stdout.write(stale ? 'stale\n' : 'fresh\n');
    process.exit(stale ? 1 : 0);
  }
  if (!buildIfStale(root, args.includes('--always'))) process.stdout.write('[build] up to date (no source changed since the last build)\n');
}

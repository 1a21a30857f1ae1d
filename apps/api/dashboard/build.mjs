// Bundles the tenant dashboard (apps/api/dashboard/src) into static files in dist/dashboard, which the
// API serves at /dashboard. Plain Node, no TypeScript step: `npm run build:dashboard` type-checks first.
//
//   node apps/api/dashboard/build.mjs [--outdir DIR] [--dev]
//
// File names carry a content hash (so they can be cached for ever); index.html, which names them, is
// written last, so a half-written build never serves an index pointing at missing files.
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const args = process.argv.slice(2);
const outdir = resolve(root, args.includes('--outdir') ? args[args.indexOf('--outdir') + 1] : 'dist/dashboard');
const dev = args.includes('--dev');

const common = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: !dev,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
  outdir,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  absWorkingDir: root,
  tsconfig: join(here, 'tsconfig.json'),
};

function outputsOf(result, entry) {
  const wanted = relative(root, join(here, 'src', entry));
  const found = Object.entries(result.metafile.outputs).filter(
    ([, meta]) => meta.entryPoint === wanted || meta.entryPoint === wanted.replaceAll('\\', '/'),
  );
  const js = found.find(([file]) => file.endsWith('.js'));
  if (!js) throw new Error(`esbuild produced no script for ${entry}`);
  return { js: basename(js[0]), css: js[1].cssBundle ? basename(js[1].cssBundle) : undefined };
}

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

// the layout worker first: the app needs its hashed file name
const worker = outputsOf(await build({ ...common, entryPoints: [join(here, 'src', 'graph', 'layout-worker.ts')] }), 'graph/layout-worker.ts');
const app = outputsOf(
  await build({
    ...common,
    entryPoints: [join(here, 'src', 'main.ts')],
    splitting: true,
    chunkNames: 'chunk-[hash]',
    define: { __LAYOUT_WORKER_FILE__: JSON.stringify(worker.js) },
  }),
  'main.ts',
);
if (!app.css) throw new Error('esbuild produced no stylesheet for main.ts');

// the favicon under a content hash like the rest, so it too can be cached for ever
const favicon = await readFile(join(here, 'favicon.svg'));
const faviconFile = `favicon-${createHash('sha256').update(favicon).digest('hex').slice(0, 8).toUpperCase()}.svg`;
await writeFile(join(outdir, faviconFile), favicon);

const template = await readFile(join(here, 'index.html'), 'utf8');
const html = template.replaceAll('%APP_JS%', app.js).replaceAll('%APP_CSS%', app.css).replaceAll('%FAVICON%', faviconFile);
if (/%[A-Z_]+%/.test(html)) throw new Error('index.html has an unreplaced %PLACEHOLDER%');
await writeFile(join(outdir, 'index.html'), html);
console.log(`dashboard built in ${relative(root, outdir) || '.'}: ${app.js}, ${app.css}, ${worker.js}, ${faviconFile}`);

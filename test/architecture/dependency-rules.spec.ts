import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const ROOT = process.cwd();
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const CLI = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const run = promisify(execFile);

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** One planted file per rule of .dependency-cruiser.cjs, each breaking exactly that rule. */
const PLANTED: Record<string, string> = {
  'libs/common/src/index.ts': "export const common = 1;\nimport '#libs/tenancy';\n",
  'libs/config/src/index.ts': 'export const config = 1;\n',
  'libs/llm/src/index.ts': "export const llm = 1;\nimport '#libs/config';\n",
  'libs/byok/src/index.ts': "export const byok = 1;\nimport '#libs/llm';\n",
  'libs/tenancy/src/index.ts': "export const tenancy = 1;\nimport '#libs/byok';\n",
  'libs/backfill/src/index.ts': 'export const backfill = 1;\n',
  'libs/queue/src/index.ts': "export const queue = 1;\nimport '#libs/backfill';\n",
  'libs/records/src/index.ts': "export const records = 1;\nimport '../../../apps/worker/src/main.js';\n",
  'libs/graphrag/src/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
  'libs/graphrag/src/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
  'libs/ai-jobs/src/index.ts': "import '#libs/missing';\n",
  'libs/testing/src/index.ts': 'export const testing = 1;\n',
  'libs/webhooks/src/index.ts': "export const webhooks = 1;\nimport '#libs/backfill';\n",
  'libs/egress/src/index.ts': "export const egress = 1;\nimport '#libs/queue';\n",
  'libs/mailbox/src/index.ts': "export const mailbox = 1;\nimport '#libs/backfill';\n",
  'apps/api/src/main.ts': "import '../../worker/src/main.js';\nimport '#libs/testing';\n",
  'apps/worker/src/main.ts': 'export const worker = 1;\n',
};

async function cruise(cwd: string): Promise<Violation[]> {
  // the CLI exits non-zero when it finds violations; its JSON report is on stdout either way
  const output = await run(process.execPath, [CLI, '--config', CONFIG, '--output-type', 'json', 'apps', 'libs'], { cwd, maxBuffer: 16 << 20 }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  return (JSON.parse(output.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  let tree: string;

  beforeAll(async () => {
    tree = await mkdtemp(join(tmpdir(), 'dependency-rules-'));
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { imports: unknown };
    await writeFile(join(tree, 'package.json'), JSON.stringify({ type: 'module', imports: pkg.imports }));
    await writeFile(join(tree, 'tsconfig.json'), await readFile(join(ROOT, 'tsconfig.json'), 'utf8'));
    for (const [path, text] of Object.entries(PLANTED)) {
      await mkdir(dirname(join(tree, path)), { recursive: true });
      await writeFile(join(tree, path), text);
    }
  });
  afterAll(() => rm(tree, { recursive: true, force: true }));

  it('has a rule for each arrow DESIGN.md forbids, and each catches its planted violation', async () => {
    const rules = (createRequire(import.meta.url)(CONFIG) as { forbidden: { name: string }[] }).forbidden.map((r) => r.name);
    const violations = await cruise(tree);

    expect(new Set(violations.map((v) => v.rule.name))).toEqual(new Set(rules));
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: { name: 'llm-is-provider-only', severity: 'error' },
          from: 'libs/llm/src/index.ts',
          to: 'libs/config/src/index.ts',
        }),
        expect.objectContaining({
          rule: { name: 'byok-never-calls-providers', severity: 'error' },
          from: 'libs/byok/src/index.ts',
          to: 'libs/llm/src/index.ts',
        }),
        expect.objectContaining({ rule: { name: 'tenancy-below-byok', severity: 'error' }, from: 'libs/tenancy/src/index.ts' }),
        expect.objectContaining({ rule: { name: 'queue-imports-no-domain-lib', severity: 'error' }, from: 'libs/queue/src/index.ts' }),
        expect.objectContaining({
          rule: { name: 'webhooks-below-jobs', severity: 'error' },
          from: 'libs/webhooks/src/index.ts',
          to: 'libs/backfill/src/index.ts',
        }),
        expect.objectContaining({
          rule: { name: 'egress-is-transport-only', severity: 'error' },
          from: 'libs/egress/src/index.ts',
          to: 'libs/queue/src/index.ts',
        }),
        expect.objectContaining({ rule: { name: 'foundations-import-no-domain-lib', severity: 'error' }, from: 'libs/common/src/index.ts' }),
        expect.objectContaining({ rule: { name: 'lib-never-imports-app', severity: 'error' }, from: 'libs/records/src/index.ts' }),
        expect.objectContaining({
          rule: { name: 'apps-never-import-each-other', severity: 'error' },
          from: 'apps/api/src/main.ts',
          to: 'apps/worker/src/main.ts',
        }),
        expect.objectContaining({ rule: { name: 'testing-only-in-tests', severity: 'error' }, from: 'apps/api/src/main.ts' }),
        expect.objectContaining({ rule: { name: 'not-to-unresolvable', severity: 'error' }, from: 'libs/ai-jobs/src/index.ts' }),
      ]),
    );
  });

  // cruising every module (400 and growing) takes tens of seconds on a busy 2-core machine
  it('finds nothing in the project itself', async () => {
    await expect(cruise(ROOT)).resolves.toEqual([]);
  }, 120_000);
});

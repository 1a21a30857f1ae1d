import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = process.cwd();

describe('docs/DESIGN.md and .dependency-cruiser.cjs', () => {
  it('name the same dependency rules: the design and its enforcement change together', () => {
    const enforced = (createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: { name: string }[] }).forbidden.map(
      (rule) => rule.name,
    );
    const design = readFileSync(join(ROOT, 'docs', 'DESIGN.md'), 'utf8');
    const section = design.slice(design.indexOf('Dependency rules'), design.indexOf('## Data'));
    const documented = [...section.matchAll(/^- `([a-z-]+)`:/gm)].map((match) => match[1]);

    expect(documented.sort()).toEqual([...enforced].sort());
  });
});

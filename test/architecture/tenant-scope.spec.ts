import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = process.cwd();

/** Every non-test .ts file under `dir`, generated code left out. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !/\.(e2e-)?spec\.ts$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .filter((path) => !path.includes('/generated/'));
}

/** `path:line: text` of every line of the files matching `pattern`. */
function offending(files: string[], pattern: RegExp): string[] {
  return files.flatMap((path) =>
    readFileSync(join(ROOT, path), 'utf8')
      .split('\n')
      .flatMap((line, index) => (pattern.test(line) ? [`${path}:${index + 1}: ${line.trim()}`] : [])),
  );
}

const LIBS = readdirSync(join(ROOT, 'libs')).flatMap((lib) => sources(join('libs', lib, 'src')));

/** The tenant scoping of docs/DESIGN.md ("Access"), checked on the source: cheap, and it names the line. */
describe('tenant scope by construction', () => {
  it('leaves no nullable tenant id in the libs: "any tenant" is the explicit PLATFORM_SCOPE', () => {
    expect(offending(LIBS, /\btenantId\??\s*:\s*(string\s*\|\s*(null|undefined)|(null|undefined)\s*\|\s*string)\b/)).toEqual([]);
  });

  it("puts the tenant id first in every repository's findById (the tenants table's own excepted)", () => {
    const repositories = LIBS.filter((path) => path.endsWith('.repository.ts') && !path.endsWith('/tenant.repository.ts'));
    expect(offending(repositories, /^\s*(async\s+)?findById\((?!tenantId: string,)/)).toEqual([]);
  });

  it("leaves tenant comparisons out of the API: controllers hand the caller's TenantScope to a service", () => {
    const api = sources('apps/api/src');
    expect(offending(api, /\btenantId\s*[!=]==|[!=]==\s*[\w.]*\btenantId\b/)).toEqual([]);
    expect(offending(api, /assertTenantAccess|WorkspaceAccess/)).toEqual([]);
  });
});

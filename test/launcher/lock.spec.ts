import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { acquireLock, AlreadyRunningError, releaseLock } from '../../scripts/local-services/lock.js';

describe("npm start's pid file", () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lock-'));
    path = join(dir, 'start.pid');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is taken when free, and released only by its holder', () => {
    acquireLock(path, { pid: process.pid, port: 3000 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ pid: process.pid, port: 3000 });
    releaseLock(path);
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, JSON.stringify({ pid: process.ppid, port: 3000 }));
    releaseLock(path);
    expect(existsSync(path)).toBe(true);
  });

  it('refuses while its holder runs, naming its pid and port', () => {
    // the parent of this test process runs for as long as it does
    writeFileSync(path, JSON.stringify({ pid: process.ppid, port: 4123 }));
    expect(() => acquireLock(path, { pid: process.pid, port: 3000 })).toThrow(AlreadyRunningError);
    expect(() => acquireLock(path, { pid: process.pid, port: 3000 })).toThrow(
      `already running (pid ${process.ppid}, API on http://localhost:4123); stop it first`,
    );
  });

  it.each([
    ['its process is gone', JSON.stringify({ pid: 2 ** 22 + 1, port: 3000 })],
    ['it is unreadable', 'not json'],
  ])('is taken over when %s', (_, content) => {
    writeFileSync(path, content);
    acquireLock(path, { pid: process.pid, port: 3001 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ pid: process.pid, port: 3001 });
  });
});

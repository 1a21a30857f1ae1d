import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import {
  acquireLock,
  AlreadyRunningError,
  processStartTime,
  recordService,
  releaseLock,
  serviceFromPidFile,
  stopLeftovers,
} from '../../scripts/local-services/lock.js';

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

  it("records what its holder starts; a killed holder's leftovers are stopped, another program's pid is left alone", async () => {
    const sleeper = spawn('sleep', ['60']);
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    try {
      acquireLock(path, { pid: process.pid, port: 3000 });
      recordService(path, 'sleeper', { pid: sleeper.pid as number, program: 'sleep' });
      // this test process runs node, not redis-server: never signalled
      recordService(path, 'redis-server', { pid: process.pid, program: 'redis-server' });
      const recorded = JSON.parse(readFileSync(path, 'utf8')) as { services: unknown };
      expect(recorded.services).toEqual({
        sleeper: { pid: sleeper.pid, program: 'sleep' },
        'redis-server': { pid: process.pid, program: 'redis-server' },
      });
      // as if this holder had been killed: the next start finds its file
      writeFileSync(path, JSON.stringify({ ...recorded, pid: 2 ** 22 + 1 }));
      const stale = acquireLock(path, { pid: process.pid, port: 3000 });
      expect(stale?.services).toEqual(recorded.services);
      expect(await stopLeftovers(stale as NonNullable<typeof stale>)).toEqual([`sleeper (pid ${sleeper.pid})`]);
      expect(await exited).toBe(null);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('is taken over when its pid now runs another process (a start killed, its pid reused), and refused while the same process runs', () => {
    // the parent of this test process is alive, but it is not the process that wrote this file: it started at another time
    writeFileSync(path, JSON.stringify({ pid: process.ppid, port: 4123, startedAt: '1' }));
    const stale = acquireLock(path, { pid: process.pid, port: 3002 });
    expect(stale).toMatchObject({ pid: process.ppid, port: 4123 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ pid: process.pid, port: 3002 });

    writeFileSync(path, JSON.stringify({ pid: process.ppid, port: 4123, startedAt: processStartTime(process.ppid) }));
    expect(() => acquireLock(path, { pid: process.pid, port: 3000 })).toThrow(AlreadyRunningError);
  });

  it('stops a server named by its own pid file only when it runs that program in that folder (a start killed before recording it)', async () => {
    const serverDir = join(dir, 'server');
    const elsewhere = join(dir, 'elsewhere');
    for (const folder of [serverDir, elsewhere]) mkdirSync(folder);
    // postgres and redis-server change into their data folder: a sleep started in it stands for one
    const sleeper = spawn('sleep', ['60'], { cwd: serverDir });
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    try {
      writeFileSync(join(serverDir, 'server.pid'), `${sleeper.pid}\n/some/dir\n`);
      expect(serviceFromPidFile(join(serverDir, 'server.pid'), 'sleep', serverDir)).toEqual({ pid: sleeper.pid, program: 'sleep', dir: serverDir });
      expect(serviceFromPidFile(join(serverDir, 'missing.pid'), 'sleep', serverDir)).toBeUndefined();
      // the pid file of a server long gone, its pid now another process of the same program elsewhere: left alone
      expect(await stopLeftovers({ services: { sleeper: { pid: sleeper.pid as number, program: 'sleep', dir: elsewhere } } })).toEqual([]);
      expect(sleeper.exitCode).toBe(null);
      const found = serviceFromPidFile(join(serverDir, 'server.pid'), 'sleep', serverDir);
      expect(await stopLeftovers({ services: { sleeper: found as NonNullable<typeof found> } })).toEqual([`sleeper (pid ${sleeper.pid})`]);
      expect(await exited).toBe(null);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '#libs/testing';
import { quotedOutput, readmeWalkthrough, type WalkthroughBlock } from './readme-walkthrough.js';

/**
 * The README's walk-through, run as a newcomer would paste it: its fenced blocks in order, the
 * long-running ones (simulator, mailbox, `npm start`) each in a "terminal" of its own, waited for
 * until they print their ready line, the rest in one bash session with `set -euo pipefail`. Only the
 * ports change (3000, 4010, 10143 to free ones, in the text and in PORT / SIMULATOR_PORT / MAILBOX_PORT).
 * It runs in a copy of the clone (symlinks, a copied dist/) so the `.env` and `.data/` it writes are its
 * own; `npm start` runs the embedded Postgres there, as on a fresh machine.
 * Checks: every command succeeds; each `# -> answer` comment matches the output of its block (`...`
 * stands for anything); each `export` line is one the programs printed; the dashboard address answers.
 */
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const LONG_RUNNING: Record<string, RegExp> = {
  'npm run simulator': /^Ctrl-C stops it\.$/m,
  'npm run mailbox': /^Ctrl-C stops it\.$/m,
  'npm start': /^\[start\] API on http/m,
};

interface Terminal {
  child: ChildProcess;
  output: () => string;
}

describe('README walk-through', () => {
  let dir: string;
  const terminals: Terminal[] = [];
  let ports: Record<string, number>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'readme-walkthrough-'));
    // as a clone is: under root, the embedded Postgres runs as the postgres user, who must reach .data/
    chmodSync(dir, 0o755);
    // a clone of our own: sources and node_modules shared, dist copied so start.js finds its root here
    for (const entry of readdirSync(ROOT)) {
      if (['.env', '.data', '.git', 'dist', 'test-artifacts'].includes(entry)) continue;
      symlinkSync(join(ROOT, entry), join(dir, entry));
    }
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
    ports = { '3000': await freePort(), '4010': await freePort(), '10143': await freePort(), embedded: await freePort() };
    // a newcomer's shell: none of the test runner's service settings, a Redis prefix of this run's own
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(BYOK_|ADMIN_API_TOKEN|DATABASE_URL|REDIS_|TEST_|PORT$|JEST|NODE_OPTIONS)/.test(k)),
    );
    env = {
      ...inherited,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `byok-readme:${randomBytes(6).toString('hex')}`,
      PORT: String(ports['3000']),
      SIMULATOR_PORT: String(ports['4010']),
      MAILBOX_PORT: String(ports['10143']),
      EMBEDDED_POSTGRES_PORT: String(ports.embedded),
      LOG_FORMAT: 'json',
    };
  });

  afterAll(async () => {
    for (const t of terminals.reverse()) await stop(t.child);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs from the simulator to the graph, the mailbox, a failure without a key and the dashboard', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = readmeWalkthrough(readme, ports);
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const printed: string[] = [];
    const session: WalkthroughBlock[] = [];
    for (const block of blocks) {
      const last = block.commands.at(-1) ?? '';
      const ready = LONG_RUNNING[last];
      if (!ready) {
        session.push(block);
        continue;
      }
      // each export line a block sets must be one a program printed before it
      for (const line of block.commands.filter((c) => c.startsWith('export '))) expect(printed).toContain(line);
      const terminal = startTerminal(block.script, dir, env);
      terminals.push(terminal);
      await waitForOutput(terminal, ready, last);
      printed.push(...terminal.output().split('\n'));
    }

    // what the prose says a program prints, it printed
    for (const quote of quotedOutput(readme, ports)) expect(printed.some((line) => line.startsWith(quote))).toBe(true);

    const script = ['set -euo pipefail', ...session.map((b, i) => `echo; echo '@@block ${i}'\n${b.script}`)].join('\n');
    const result = await runBash(script, dir, env);
    if (result.code !== 0) throw new Error(`the walk-through's commands failed (exit ${result.code}):\n${result.output}\n${terminalLogs()}`);
    const outputs = result.output.split(/^@@block \d+$/m).slice(1);
    const mismatches = session.flatMap((block, i) =>
      block.answers.filter((expected) => !matchesAnswer(outputs[i], expected)).map((expected) => ({ expected, output: outputs[i] })),
    );
    expect(mismatches).toEqual([]);
    const dashboard = /Open (http\S+) and sign in with (tt_\S+)/.exec(result.output);
    expect(dashboard).not.toBeNull();
    const page = await fetch(dashboard![1]);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  }, 300_000);

  function terminalLogs(): string {
    return terminals.map((t, i) => `--- terminal ${i}\n${t.output().slice(-4000)}`).join('\n');
  }
});

/** `expected` with `...` as a wildcard: its pieces appear in `output` in order. */
function matchesAnswer(output: string, expected: string): boolean {
  let at = 0;
  for (const piece of expected.split('...').filter(Boolean)) {
    const found = output.indexOf(piece, at);
    if (found < 0) return false;
    at = found + piece.length;
  }
  return true;
}

function startTerminal(script: string, cwd: string, env: NodeJS.ProcessEnv): Terminal {
  let output = '';
  const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitForOutput(terminal: Terminal, ready: RegExp, what: string): Promise<void> {
  for (let waited = 0; waited < 120_000; waited += 100) {
    if (ready.test(terminal.output())) return;
    if (terminal.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`\`${what}\` did not get ready (exit ${terminal.child.exitCode}):\n${terminal.output().slice(-4000)}`);
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    let output = '';
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

/** Ctrl-C as in a terminal: SIGINT to the whole process group, until none of it is left (SIGKILL after 20 s). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const signal = (name: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-child.pid!, name);
      return true;
    } catch {
      return false; // no process of the group is left
    }
  };
  if (!signal('SIGINT')) return;
  for (let waited = 0; signal(0); waited += 100) {
    if (waited === 20_000) signal('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// the path alone, relative: `#libs/testing` would load the database and Nest test helpers too
import { STATS_PATH } from '../libs/testing/src/provider-simulator/provider-simulator.js';
import type { KeyStats } from '../libs/testing/src/provider-simulator/simulator-types.js';

/** The providers whose base URL the simulator script prints (scripts/simulator.ts). */
const SIMULATED_PROVIDERS = ['OPENAI', 'GEMINI', 'DEEPSEEK', 'ANTHROPIC'];

export interface SimulatorProcess {
  env: Record<string, string>;
  /** Completion requests it answered and those it answered 429 for being over the per-key limit, and the span (ms) of those it let through, all keys together. */
  stats(): Promise<{ completions: number; rateLimited: number; spanMs: number }>;
  stop(): void;
}

/** The provider simulator in its own process, as a remote provider would be: it does not share the pipeline's CPU. */
export async function startSimulatorProcess(validKeys: string, latencyMs: number, rpmPerKey = 0): Promise<SimulatorProcess> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'simulator.js');
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      SIMULATOR_PORT: '0',
      SIMULATOR_VALID_KEYS: validKeys,
      SIMULATOR_LATENCY_MS: String(latencyMs),
      SIMULATOR_RPM_PER_KEY: String(rpmPerKey),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const env = await new Promise<Record<string, string>>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = Object.fromEntries([...output.matchAll(/^\s*(?:export )?(\w+_BASE_URL)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
      // one line per provider, all in one write; counting them instead broke when a provider was added
      if (SIMULATED_PROVIDERS.every((name) => found[`${name}_BASE_URL`])) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const stats = async () => {
    const origin = new URL(env.OPENAI_BASE_URL).origin;
    const { keys } = (await (await fetch(`${origin}${STATS_PATH}`)).json()) as { keys: Record<string, KeyStats> };
    const all = Object.values(keys);
    const counted = all.filter((k) => k.firstCountedAt > 0);
    return {
      completions: all.reduce((sum, k) => sum + k.completions, 0),
      rateLimited: all.reduce((sum, k) => sum + k.rateLimited, 0),
      spanMs: counted.length ? Math.max(...counted.map((k) => k.lastCountedAt)) - Math.min(...counted.map((k) => k.firstCountedAt)) : 0,
    };
  };
  return { env, stats, stop: () => child.kill('SIGTERM') };
}

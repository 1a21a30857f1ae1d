import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SimulatorProcess {
  env: Record<string, string>;
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
      const found = Object.fromEntries([...output.matchAll(/^\s*(\w+_BASE_URL)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
      if (Object.keys(found).length === 3) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return { env, stop: () => child.kill('SIGTERM') };
}

// Jest's globalTeardown: no relative import works here (see global-setup.ts), so it reads the state
// global-setup left on globalThis
const SERVICES_KEY = Symbol.for('byok.testServices');

/** Stops what globalSetup started for the run and removes its folder. */
export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<symbol, unknown>)[SERVICES_KEY] as { services: { stop(): Promise<void> }; workDir: string } | undefined;
  if (!state) return;
  await state.services.stop();
  const { rmSync } = await import('node:fs');
  rmSync(state.workDir, { recursive: true, force: true });
}

/**
 * Runs the provider simulator on its own, so the API and worker can run with no network:
 *   npm run simulator                       accepts the demo keys below (printed: they are not secrets)
 *   SIMULATOR_PORT=4010 SIMULATOR_VALID_KEYS='openai:sk-...,gemini:AIza...,deepseek:*,anthropic:sk-ant-...' npm run simulator
 * (SIMULATOR_RPM_PER_KEY=N: each key may make N completion requests in any sliding minute, then 429),
 * then start the services after the printed `export` lines (OPENAI_BASE_URL, GEMINI_BASE_URL,
 * DEEPSEEK_BASE_URL, ANTHROPIC_BASE_URL), and store the printed AZURE_OPENAI_ENDPOINT or
 * CUSTOM_OPENAI_BASE_URL as a tenant's settings. Keys given in SIMULATOR_VALID_KEYS are never printed:
 * only how many each provider accepts.
 */
// a relative import on purpose: `#libs/testing` would also load the database and Nest test helpers
import { PROVIDER_IDS, type ProviderId } from '../libs/common/src/provider-id.js';
import { ProviderSimulator, parseValidKeysSpec } from '../libs/testing/src/provider-simulator/index.js';

const DEFAULT_PORT = 4010;

/** Keys the simulator accepts when SIMULATOR_VALID_KEYS is unset: made up, valid nowhere else, so printing them is safe. */
export const DEMO_KEYS: Record<ProviderId, string> = Object.fromEntries(
  PROVIDER_IDS.map((p) => [p, `sk-simulator-demo-${p}-${'0'.repeat(23)}1`]),
) as Record<ProviderId, string>;

async function main(): Promise<void> {
  const port = Number(process.env.SIMULATOR_PORT ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('SIMULATOR_PORT must be a port number');
  const demo = process.env.SIMULATOR_VALID_KEYS === undefined;
  const validKeys = demo
    ? Object.fromEntries(Object.entries(DEMO_KEYS).map(([p, key]) => [p, [key]]))
    : parseValidKeysSpec(process.env.SIMULATOR_VALID_KEYS ?? '');
  const rpmPerKey = Number(process.env.SIMULATOR_RPM_PER_KEY ?? 0) || undefined;
  const simulator = new ProviderSimulator({ port, validKeys, latencyMs: Number(process.env.SIMULATOR_LATENCY_MS ?? 0) || 0, rpmPerKey });
  const urls = await simulator.start();

  const accepted = demo
    ? [
        'Accepting the demo keys (SIMULATOR_VALID_KEYS unset); store one as a tenant setting, e.g. OPENAI_API_KEY:',
        ...PROVIDER_IDS.map((p) => `  ${p}: ${DEMO_KEYS[p]}`),
      ]
    : [
        `Accepting ${PROVIDER_IDS.map((p) => {
          const keys = validKeys[p] ?? [];
          return `${p}: ${keys.includes('*') ? 'any key' : `${keys.length} key(s)`}`;
        }).join(', ')} (from SIMULATOR_VALID_KEYS)`,
      ];
  process.stdout.write(
    [
      `Provider simulator listening on 127.0.0.1:${port || new URL(urls.openaiBaseUrl).port}`,
      ...accepted,
      ...(rpmPerKey ? [`Each key may make ${rpmPerKey} completion requests a minute (SIMULATOR_RPM_PER_KEY); more answer 429`] : []),
      'Point the services at it: run these in the shell that runs npm start',
      `export OPENAI_BASE_URL=${urls.openaiBaseUrl}`,
      `export GEMINI_BASE_URL=${urls.geminiBaseUrl}`,
      `export DEEPSEEK_BASE_URL=${urls.deepseekBaseUrl}`,
      `export ANTHROPIC_BASE_URL=${urls.anthropicBaseUrl}`,
      "Tenant endpoints are the tenant's settings, reachable once the services run with EGRESS_ALLOW_HTTP=true EGRESS_ALLOWED_CIDRS=127.0.0.1/32:",
      `  AZURE_OPENAI_ENDPOINT=${urls.azureOpenAiEndpoint} (deployment gpt-4o-mini)`,
      `  CUSTOM_OPENAI_BASE_URL=${urls.customOpenAiBaseUrl} (model llama-3.1-8b-instruct)`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );

  const shutdown = () => void simulator.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`Provider simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

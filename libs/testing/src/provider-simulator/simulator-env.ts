import type { SimulatorUrls } from './simulator-types.js';

/** The environment that points every provider at a running simulator. */
export function simulatorEnv(urls: SimulatorUrls): Record<string, string> {
  return { OPENAI_BASE_URL: urls.openaiBaseUrl, GEMINI_BASE_URL: urls.geminiBaseUrl, DEEPSEEK_BASE_URL: urls.deepseekBaseUrl };
}

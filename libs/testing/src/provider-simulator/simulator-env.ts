import type { ProviderId } from '#libs/common';
import type { SimulatorUrls } from './simulator-types.js';

/** The environment that points every provider at a running simulator. */
export function simulatorEnv(urls: SimulatorUrls): Record<string, string> {
  return {
    OPENAI_BASE_URL: urls.openaiBaseUrl,
    GEMINI_BASE_URL: urls.geminiBaseUrl,
    DEEPSEEK_BASE_URL: urls.deepseekBaseUrl,
    ANTHROPIC_BASE_URL: urls.anthropicBaseUrl,
  };
}

/** LlmOptions' base URLs pointing every provider at a running simulator. */
export function simulatorBaseUrls(urls: SimulatorUrls): Record<ProviderId, string> {
  return { openai: urls.openaiBaseUrl, gemini: urls.geminiBaseUrl, deepseek: urls.deepseekBaseUrl, anthropic: urls.anthropicBaseUrl };
}

/** Base URLs of a port where nothing listens (every call fails to connect). */
export function unreachableBaseUrls(port: number): Record<ProviderId, string> {
  return {
    openai: `http://127.0.0.1:${port}/v1`,
    gemini: `http://127.0.0.1:${port}`,
    deepseek: `http://127.0.0.1:${port}/v1`,
    anthropic: `http://127.0.0.1:${port}`,
  };
}

import type { ProviderId, PublicProvider } from '#libs/common';
import { LISTED_MODELS } from './provider-simulator.js';
import type { SimulatorUrls } from './simulator-types.js';

/**
 * The environment that points every public provider at a running simulator. A tenant endpoint
 * (azure-openai, custom-openai) is a tenant setting instead (SimulatorUrls.azureOpenAiEndpoint,
 * customOpenAiBaseUrl), reachable once the egress policy allows 127.0.0.1 (simulatorEgressEnv).
 */
export function simulatorEnv(urls: SimulatorUrls): Record<string, string> {
  return {
    OPENAI_BASE_URL: urls.openaiBaseUrl,
    GEMINI_BASE_URL: urls.geminiBaseUrl,
    DEEPSEEK_BASE_URL: urls.deepseekBaseUrl,
    ANTHROPIC_BASE_URL: urls.anthropicBaseUrl,
  };
}

/** LlmOptions' base URLs pointing every provider at a running simulator. */
export function simulatorBaseUrls(urls: SimulatorUrls): Record<PublicProvider, string> {
  return { openai: urls.openaiBaseUrl, gemini: urls.geminiBaseUrl, deepseek: urls.deepseekBaseUrl, anthropic: urls.anthropicBaseUrl };
}

/** Base URLs of a port where nothing listens (every call fails to connect). */
export function unreachableBaseUrls(port: number): Record<PublicProvider, string> {
  return {
    openai: `http://127.0.0.1:${port}/v1`,
    gemini: `http://127.0.0.1:${port}`,
    deepseek: `http://127.0.0.1:${port}/v1`,
    anthropic: `http://127.0.0.1:${port}`,
  };
}

/** The operator settings under which tenant endpoints may name the simulator (plain http on 127.0.0.1). */
export function simulatorEgressEnv(): Record<string, string> {
  return { EGRESS_ALLOW_HTTP: 'true', EGRESS_ALLOWED_CIDRS: '127.0.0.1/32' };
}

/**
 * The model and endpoint LlmClientFactory.create takes for `provider` against a running simulator:
 * the simulator's listed model and a tenant endpoint for azure-openai and custom-openai, nothing
 * (the defaults and the base URLs of simulatorBaseUrls) for the public providers.
 */
export function simulatorTarget(provider: ProviderId, urls: SimulatorUrls): { model?: string; endpoint?: { baseUrl: string; apiVersion?: string } } {
  if (provider === 'azure-openai')
    return { model: LISTED_MODELS[provider][0], endpoint: { baseUrl: urls.azureOpenAiEndpoint, apiVersion: '2024-10-21' } };
  if (provider === 'custom-openai') return { model: LISTED_MODELS[provider][0], endpoint: { baseUrl: urls.customOpenAiBaseUrl } };
  return {};
}

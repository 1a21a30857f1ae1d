import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import type { MaskedSetting } from '#libs/byok';
import { fingerprintForSimulator, ProviderSimulator, simulatorEgressEnv, simulatorEnv, type SimulatorUrls } from '#libs/testing';
import type { ListOf } from './api-harness.js';
import {
  accessibilityViolations,
  dashboardSuite,
  expectAttribute,
  expectCount,
  expectText,
  expectValue,
  screenshot,
  waitUntil,
} from './dashboard-browser.js';

/**
 * The keys page's provider settings in headless Chromium against the real API and the provider
 * simulator: a tenant's own OpenAI-compatible endpoint and Azure OpenAI resource (URL, model or
 * deployment, key), a public provider's model, and the API's refusals shown next to their field.
 */
describe('Dashboard provider settings in a browser (e2e)', () => {
  const customKey = `ck-dash-${randomBytes(12).toString('hex')}-c0de`;
  // Azure's resource keys are 32 hex characters
  const azureKey = randomBytes(16).toString('hex');
  const simulator = new ProviderSimulator({ validKeys: { 'custom-openai': [customKey], 'azure-openai': [azureKey] } });
  let urls: SimulatorUrls;
  // registered before the suite's: the simulator is up when the API starts with its URLs
  beforeAll(async () => {
    urls = await simulator.start();
  });
  afterAll(() => simulator.stop());
  afterEach(() => simulator.reset());
  // tenant endpoints on 127.0.0.1 over http are refused unless the operator allows them
  const suite = dashboardSuite(() => ({ ...simulatorEnv(urls), ...simulatorEgressEnv(), LOG_LEVEL: 'warn' }));

  async function signedInTenant() {
    const tenant = await suite.api.newTenant({ subdomain: `dash-keys-${randomBytes(3).toString('hex')}` });
    const token = await suite.api.newTenantToken(tenant.id);
    const dashboard = await suite.signedIn(token);
    return { tenant, ...dashboard };
  }

  async function storedSettings(tenantId: string): Promise<Record<string, string | undefined>> {
    const { body } = await suite.api.request<ListOf<MaskedSetting>>('GET', `/v1/tenants/${tenantId}/settings`);
    return Object.fromEntries(body.items.map((s) => [s.key, s.value]));
  }

  /** Fills a setting's field and saves it with its own Save button. */
  async function saveSetting(page: Page, label: string, value: string): Promise<void> {
    await page.getByLabel(label, { exact: true }).fill(value);
    await page.getByRole('button', { name: `Save ${label}`, exact: true }).click();
  }

  it("sets up a tenant's own OpenAI-compatible endpoint and validates its key there; a refused URL or model shows the API's message at the field", async () => {
    const { tenant, page, problems } = await signedInTenant();
    const custom = page.locator('article[data-provider="custom-openai"]');
    await expectText(custom.getByTestId('readiness-custom-openai'), 'Not ready: set the base URL, model, API key.');
    await expectAttribute(page.getByLabel('Endpoint base URL', { exact: true }), 'placeholder', 'Required');
    await expectAttribute(page.getByLabel('Endpoint model', { exact: true }), 'placeholder', 'Required');

    // the URL is stored as the API normalized it (no trailing slash), and the field shows that
    await saveSetting(page, 'Endpoint base URL', `${urls.customOpenAiBaseUrl}/`);
    await expectText(custom.locator('[data-setting="CUSTOM_OPENAI_BASE_URL"] .message-area'), 'Endpoint base URL saved.');
    await expectText(custom.getByTestId('setting-state-CUSTOM_OPENAI_BASE_URL'), `Set: ${urls.customOpenAiBaseUrl}.`);
    await expectValue(page.getByLabel('Endpoint base URL', { exact: true }), urls.customOpenAiBaseUrl);

    // a key with no model yet: validation says what is missing, and nothing reaches the endpoint
    await page.getByLabel('OpenAI-compatible endpoint API key', { exact: true }).fill(customKey);
    await custom.getByRole('button', { name: 'Save key' }).click();
    await expectText(custom.locator('.key-messages'), /OpenAI-compatible endpoint key saved \(…c0de\)/);
    await expectText(custom.getByTestId('readiness-custom-openai'), 'Not ready: set the model.');
    await custom.getByRole('button', { name: 'Validate now' }).click();
    await expectText(custom.locator('.key-messages .message-error'), /CUSTOM_OPENAI_MODEL/);
    expect(simulator.requestsFor('custom-openai')).toEqual([]);

    // a model id the catalog refuses: INVALID_SETTING_VALUE's message, at the model's field
    const modelField = page.getByLabel('Endpoint model', { exact: true });
    await saveSetting(page, 'Endpoint model', 'llama 3');
    const modelMessage = custom.locator('[data-setting="CUSTOM_OPENAI_MODEL"] .message-error');
    await expectText(modelMessage, 'Error: Invalid value for CUSTOM_OPENAI_MODEL: must not contain whitespace or control characters');
    await expectAttribute(modelField, 'aria-invalid', 'true');
    await expectAttribute(modelField, 'aria-describedby', 'setting-custom-openai-model-hint setting-custom-openai-model-message');

    await saveSetting(page, 'Endpoint model', 'llama-3.1-8b-instruct');
    await expectText(custom.getByTestId('setting-state-CUSTOM_OPENAI_MODEL'), 'Set: llama-3.1-8b-instruct.');
    await expectCount(modelMessage, 0);
    await expectAttribute(modelField, 'aria-describedby', 'setting-custom-openai-model-hint');
    await expectText(custom.getByTestId('readiness-custom-openai'), 'Ready: the base URL, model and API key are set.');

    await custom.getByRole('button', { name: 'Validate now' }).click();
    await expectText(custom.locator('.key-messages .message-success'), /^The OpenAI-compatible endpoint key is valid/);
    await expectText(custom.locator('.badge'), 'Valid');
    // the check went to the tenant's endpoint, with the tenant's key
    const calls = simulator.requestsFor('custom-openai');
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path.startsWith('/custom-openai/v1/')).toBe(true);
      expect(call.keyFingerprint).toBe(fingerprintForSimulator(customKey));
    }

    // a URL the egress policy refuses (cloud metadata): its message at the URL's field, the stored URL unchanged
    await saveSetting(page, 'Endpoint base URL', 'https://169.254.169.254/');
    const urlMessage = custom.locator('[data-setting="CUSTOM_OPENAI_BASE_URL"] .message-error');
    await expectText(urlMessage, /^Error: The platform will not connect to this URL: 169\.254\.169\.254 is a link-local address/);
    await expectAttribute(page.getByLabel('Endpoint base URL', { exact: true }), 'aria-invalid', 'true');
    await expectText(custom.getByTestId('setting-state-CUSTOM_OPENAI_BASE_URL'), `Set: ${urls.customOpenAiBaseUrl}.`);
    // the refused value stays in the field to be corrected
    await expectValue(page.getByLabel('Endpoint base URL', { exact: true }), 'https://169.254.169.254/');
    expect(await storedSettings(tenant.id)).toMatchObject({
      CUSTOM_OPENAI_BASE_URL: urls.customOpenAiBaseUrl,
      CUSTOM_OPENAI_MODEL: 'llama-3.1-8b-instruct',
    });

    // the graph can be extracted with any of the six providers
    const graphProvider = page.getByLabel('Provider (GRAPHRAG_PROVIDER)');
    await expectCount(graphProvider.locator('option'), 6);
    await graphProvider.selectOption('custom-openai');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByText('Backfills now extract the graph with OpenAI-compatible endpoint.').waitFor();
    await expectText(page.locator('#graphrag-provider-hint'), /CUSTOM_OPENAI_API_KEY\) and CUSTOM_OPENAI_BASE_URL and CUSTOM_OPENAI_MODEL/);
    expect((await storedSettings(tenant.id)).GRAPHRAG_PROVIDER).toBe('custom-openai');

    expect(await page.content()).not.toContain(customKey);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'keys-custom-endpoint');
    expect(problems).toEqual([]);
  }, 60_000);

  it("sets a public provider's model over its default, lists it, and removes it again; works at a phone's width", async () => {
    const { tenant, page, problems } = await signedInTenant();
    const openai = page.locator('article[data-provider="openai"]');
    const model = page.getByLabel('OpenAI model', { exact: true });
    // the default is what the field shows while nothing is set
    await expectAttribute(model, 'placeholder', 'gpt-4o-mini');
    await expectText(openai.getByTestId('setting-state-OPENAI_MODEL'), 'Not set: gpt-4o-mini (the default) applies.');
    await expectAttribute(page.getByLabel('Gemini model', { exact: true }), 'placeholder', 'gemini-2.0-flash');
    await expectAttribute(page.getByLabel('Anthropic model', { exact: true }), 'placeholder', 'claude-haiku-4-5');
    await expectAttribute(page.getByLabel('Azure OpenAI API version', { exact: true }), 'placeholder', '2024-10-21');
    await expectAttribute(page.getByLabel('Azure OpenAI deployment', { exact: true }), 'placeholder', 'Required');
    // the public providers have no readiness line: their endpoint is the provider's
    await expectCount(openai.locator('.readiness'), 0);
    await expectCount(openai.getByRole('button', { name: 'Remove OpenAI model' }), 0);

    await saveSetting(page, 'OpenAI model', 'gpt-4.1-mini');
    await expectText(openai.getByTestId('setting-state-OPENAI_MODEL'), 'Set: gpt-4.1-mini.');
    expect((await storedSettings(tenant.id)).OPENAI_MODEL).toBe('gpt-4.1-mini');
    // a fresh page lists it from the API
    await page.reload();
    await expectText(openai.getByTestId('setting-state-OPENAI_MODEL'), 'Set: gpt-4.1-mini.');
    await expectValue(model, 'gpt-4.1-mini');

    // on a phone's width nothing runs off the side
    await page.setViewportSize({ width: 390, height: 844 });
    await waitUntil(
      'the page width at 390 px',
      () =>
        page.evaluate(
          '[document.documentElement.scrollWidth, document.querySelector("article[data-provider=azure-openai]").getBoundingClientRect().right]',
        ),
      (widths) => (widths as number[]).every((w) => w <= 390),
      'at most 390',
    );
    await screenshot(page, 'keys-390');
    expect(await accessibilityViolations(page)).toEqual([]);

    await openai.getByRole('button', { name: 'Remove OpenAI model' }).click();
    await expectText(openai.locator('[data-setting="OPENAI_MODEL"] .message-success'), 'OpenAI model removed: gpt-4o-mini (the default) applies.');
    await expectText(openai.getByTestId('setting-state-OPENAI_MODEL'), 'Not set: gpt-4o-mini (the default) applies.');
    await expectValue(model, '');
    expect(await storedSettings(tenant.id)).not.toHaveProperty('OPENAI_MODEL');
    expect(problems).toEqual([]);
  }, 60_000);

  it("sets up an Azure OpenAI resource (endpoint, deployment, API version, key) and validates the key at the tenant's resource", async () => {
    const { tenant, page, problems } = await signedInTenant();
    const azure = page.locator('article[data-provider="azure-openai"]');
    await expectText(azure.getByTestId('readiness-azure-openai'), 'Not ready: set the endpoint, deployment, API key.');

    await saveSetting(page, 'Azure OpenAI endpoint', urls.azureOpenAiEndpoint);
    await expectText(azure.getByTestId('setting-state-AZURE_OPENAI_ENDPOINT'), `Set: ${urls.azureOpenAiEndpoint}.`);
    await saveSetting(page, 'Azure OpenAI deployment', 'gpt-4o-mini');
    await expectText(azure.getByTestId('setting-state-AZURE_OPENAI_DEPLOYMENT'), 'Set: gpt-4o-mini.');
    // an API version the catalog refuses, then one it takes
    await saveSetting(page, 'Azure OpenAI API version', 'latest');
    await expectText(azure.locator('[data-setting="AZURE_OPENAI_API_VERSION"] .message-error'), /must be an Azure OpenAI API version/);
    await saveSetting(page, 'Azure OpenAI API version', '2024-10-21');
    await expectText(azure.getByTestId('setting-state-AZURE_OPENAI_API_VERSION'), 'Set: 2024-10-21.');

    await page.getByLabel('Azure OpenAI API key', { exact: true }).fill(azureKey);
    await azure.getByRole('button', { name: 'Save key' }).click();
    await expectText(azure.getByTestId('readiness-azure-openai'), 'Ready: the endpoint, deployment and API key are set.');
    await azure.getByRole('button', { name: 'Validate now' }).click();
    await expectText(azure.locator('.key-messages .message-success'), /^The Azure OpenAI key is valid/);
    await expectText(azure.locator('.badge'), 'Valid');
    const calls = simulator.requestsFor('azure-openai');
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path.startsWith('/azure-openai/openai/')).toBe(true);
      expect(call.keyFingerprint).toBe(fingerprintForSimulator(azureKey));
    }
    expect(await storedSettings(tenant.id)).toMatchObject({
      AZURE_OPENAI_ENDPOINT: urls.azureOpenAiEndpoint,
      AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini',
      AZURE_OPENAI_API_VERSION: '2024-10-21',
    });

    // removing the endpoint leaves the provider not ready again
    await azure.getByRole('button', { name: 'Remove Azure OpenAI endpoint' }).click();
    await expectText(azure.getByTestId('setting-state-AZURE_OPENAI_ENDPOINT'), 'Not set, required before Azure OpenAI can be used.');
    await expectText(azure.getByTestId('readiness-azure-openai'), 'Not ready: set the endpoint.');
    expect(await storedSettings(tenant.id)).not.toHaveProperty('AZURE_OPENAI_ENDPOINT');
    expect(await page.content()).not.toContain(azureKey);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);
});

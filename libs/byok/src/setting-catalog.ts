import { apiKeySettingFor, isProviderId, modelSettingFor, PROVIDER_IDS, type ProviderId, settingPrefixFor } from '#libs/common';
import { InvalidSettingValueError, UnknownSettingKeyError } from './byok.errors.js';

export const MAX_SETTING_VALUE_LENGTH = 512;

export interface SettingDefinition {
  key: string;
  secret: boolean;
  /** For `*_API_KEY` settings: the provider the key is for. */
  provider?: ProviderId;
  description: string;
  /** Extra rule on the trimmed value; returns why it is rejected. */
  check?: (value: string) => string | undefined;
  /**
   * A URL the product will connect to with a tenant's key (a tenant endpoint): checked by the
   * egress policy when saved (ByokKeyStore), and again at every connection.
   */
  url?: boolean;
  /**
   * The provider whose key a verdict was reached with this setting's value (its model, endpoint, API
   * version): a change sends that key's verdict back to `unknown`.
   */
  checkedWith?: ProviderId;
}

/** The Azure OpenAI API version used when the tenant sets none: the latest GA data-plane version. */
export const AZURE_OPENAI_DEFAULT_API_VERSION = '2024-10-21';

/** The largest rate a tenant may set (a billion a minute is beyond every provider's tier). */
const MAX_RATE = 1_000_000_000;

/** The setting that holds a provider's requests (`RPM`) or tokens (`TPM`) per minute for the tenant's key, e.g. `OPENAI_RPM`. */
export function rateSettingFor(provider: ProviderId, unit: 'RPM' | 'TPM'): string {
  return `${settingPrefixFor(provider)}_${unit}`;
}

/** The longest model id a tenant may set; the providers' ids run to about 60 characters. */
export const MAX_MODEL_ID_LENGTH = 128;

// Model ids as the providers list them: `gpt-4o-mini`, `gemini-2.0-flash-001`, `ft:gpt-4o:org:x:id`
const MODEL_ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,${MAX_MODEL_ID_LENGTH - 1}}$`);

function modelId(value: string): string | undefined {
  // the Gemini SDK puts the model in the URL path: no `..` that would climb out of `models/`
  return MODEL_ID.test(value) && !value.includes('..')
    ? undefined
    : `must be a model id of at most ${MAX_MODEL_ID_LENGTH} characters: letters, digits and . _ : @ / - (starting with a letter or digit, no '..')`;
}

/** Azure OpenAI's data-plane API versions: `2024-10-21`, `2025-04-01-preview` (https://learn.microsoft.com/azure/ai-services/openai/api-version-lifecycle). */
function azureApiVersion(value: string): string | undefined {
  return /^\d{4}-\d{2}-\d{2}(-preview)?$/.test(value) ? undefined : 'must be an Azure OpenAI API version such as 2024-10-21 or 2025-04-01-preview';
}

function positiveInteger(value: string): string | undefined {
  return /^[1-9]\d{0,9}$/.test(value) && Number(value) <= MAX_RATE ? undefined : `must be a whole number from 1 to ${MAX_RATE}`;
}

const definitions: SettingDefinition[] = [
  ...PROVIDER_IDS.map((provider) => ({
    key: apiKeySettingFor(provider),
    secret: true,
    provider,
    description: `The tenant's own ${provider} API key`,
  })),
  ...PROVIDER_IDS.flatMap((provider) => [
    {
      key: rateSettingFor(provider, 'RPM'),
      secret: false,
      description: `Requests per minute this tenant's ${provider} key may be sent (default PROVIDER_DEFAULT_RPM)`,
      check: positiveInteger,
    },
    {
      key: rateSettingFor(provider, 'TPM'),
      secret: false,
      description: `Tokens per minute this tenant's ${provider} key may be sent (default PROVIDER_DEFAULT_TPM)`,
      check: positiveInteger,
    },
  ]),
  ...PROVIDER_IDS.map((provider) => ({
    key: modelSettingFor(provider),
    secret: false,
    checkedWith: provider,
    description:
      provider === 'azure-openai'
        ? "Deployment of the tenant's Azure OpenAI resource its calls use (required for azure-openai)"
        : provider === 'custom-openai'
          ? "Model the tenant's own endpoint serves, as its GET /models lists it (required for custom-openai)"
          : `Model this tenant's ${provider} calls use (default PROVIDER_DEFAULTS: the provider's model as before)`,
    check: modelId,
  })),
  {
    key: 'AZURE_OPENAI_ENDPOINT',
    secret: false,
    url: true,
    checkedWith: 'azure-openai',
    description: "The tenant's Azure OpenAI resource, e.g. https://my-resource.openai.azure.com (required for azure-openai)",
  },
  {
    key: 'AZURE_OPENAI_API_VERSION',
    secret: false,
    checkedWith: 'azure-openai',
    description: `Azure OpenAI API version of the tenant's calls (default ${AZURE_OPENAI_DEFAULT_API_VERSION})`,
    check: azureApiVersion,
  },
  {
    key: 'CUSTOM_OPENAI_BASE_URL',
    secret: false,
    url: true,
    checkedWith: 'custom-openai',
    description:
      "Base URL of the tenant's own OpenAI-compatible endpoint, before /chat/completions, e.g. https://llm.example.com/v1 (required for custom-openai)",
  },
  {
    key: 'GRAPHRAG_PROVIDER',
    secret: false,
    description: 'Provider used for knowledge-graph extraction (default openai)',
    check: (value) => (isProviderId(value) ? undefined : `must be one of ${PROVIDER_IDS.join(', ')}`),
  },
];

const byKey = new Map(definitions.map((d) => [d.key, d]));

export function settingDefinition(key: string): SettingDefinition {
  const definition = byKey.get(key);
  if (!definition) throw new UnknownSettingKeyError([...byKey.keys()]);
  return definition;
}

// whitespace or control characters (including DEL and Unicode line separators) inside a value
const FORBIDDEN_INSIDE = /[\s\p{Cc}\p{Cf}]/u;

/** Why an (already trimmed) key or value is malformed, or undefined; shared by settings and BYOK headers. */
export function keyShapeProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  if (value.length > MAX_SETTING_VALUE_LENGTH) return `must be at most ${MAX_SETTING_VALUE_LENGTH} characters`;
  if (FORBIDDEN_INSIDE.test(value)) return 'must not contain whitespace or control characters';
  return undefined;
}

/** Trims and checks a value for a setting; the error never quotes the value itself. */
export function normalizeSettingValue(definition: SettingDefinition, raw: unknown): string {
  if (typeof raw !== 'string') throw new InvalidSettingValueError(definition.key, 'must be a string');
  const value = raw.trim();
  const shape = keyShapeProblem(value);
  if (shape) throw new InvalidSettingValueError(definition.key, shape);
  const problem = definition.check?.(value);
  if (problem) throw new InvalidSettingValueError(definition.key, problem);
  return value;
}

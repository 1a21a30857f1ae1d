import { apiKeySettingFor, isProviderId, PROVIDER_IDS, type ProviderId } from '#libs/common';
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
}

const definitions: SettingDefinition[] = [
  ...PROVIDER_IDS.map((provider) => ({
    key: apiKeySettingFor(provider),
    secret: true,
    provider,
    description: `The tenant's own ${provider} API key`,
  })),
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

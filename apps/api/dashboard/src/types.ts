/** The shapes of the API's answers that the dashboard reads (see README "HTTP API (v1)"). */

export type ProviderId = 'openai' | 'gemini' | 'deepseek' | 'anthropic' | 'azure-openai' | 'custom-openai';
export const PROVIDERS: readonly ProviderId[] = ['openai', 'gemini', 'deepseek', 'anthropic', 'azure-openai', 'custom-openai'];
export const PROVIDER_LABELS: Record<ProviderId, string> = {
  openai: 'OpenAI',
  gemini: 'Gemini',
  deepseek: 'DeepSeek',
  anthropic: 'Anthropic',
  'azure-openai': 'Azure OpenAI',
  'custom-openai': 'OpenAI-compatible endpoint',
};

/** The prefix of a provider's settings (libs/common settingPrefixFor): `OPENAI`, `AZURE_OPENAI`, `CUSTOM_OPENAI`. */
export const settingPrefix = (provider: ProviderId): string => provider.toUpperCase().replaceAll('-', '_');
/** The setting that holds a provider's key, e.g. `OPENAI_API_KEY`, `AZURE_OPENAI_API_KEY`. */
export const apiKeySetting = (provider: ProviderId): string => `${settingPrefix(provider)}_API_KEY`;
/** The setting that names the model of a provider's calls; for Azure OpenAI the deployment, which is what its URLs name. */
export const modelSetting = (provider: ProviderId): string =>
  provider === 'azure-openai' ? 'AZURE_OPENAI_DEPLOYMENT' : `${settingPrefix(provider)}_MODEL`;

/** The model a public provider's calls use while the tenant sets none (the API's PROVIDER_DEFAULTS). */
export const DEFAULT_MODELS: Partial<Record<ProviderId, string>> = {
  openai: 'gpt-4o-mini',
  gemini: 'gemini-2.0-flash',
  deepseek: 'deepseek-chat',
  anthropic: 'claude-haiku-4-5',
};
/** The Azure OpenAI API version used while the tenant sets none (the API's AZURE_OPENAI_DEFAULT_API_VERSION). */
export const AZURE_OPENAI_DEFAULT_API_VERSION = '2024-10-21';

/**
 * One non-secret setting of a provider, as the keys page edits it. `defaultValue`: what applies while
 * it is not set; `required`: the provider cannot be used without it (a tenant endpoint's URL and model).
 */
export interface ProviderSettingField {
  key: string;
  label: string;
  /** How the card's readiness line names it: `endpoint`, `deployment`, `model`. */
  name: string;
  kind: 'text' | 'url';
  required: boolean;
  /** What applies while it is not set: shown as the field's placeholder. */
  defaultValue?: string;
  hint: string;
}

/** The settings besides the key that each provider's card shows, in the order a tenant fills them in. */
export function providerSettingFields(provider: ProviderId): ProviderSettingField[] {
  const label = PROVIDER_LABELS[provider];
  const model = modelSetting(provider);
  switch (provider) {
    case 'azure-openai':
      return [
        {
          key: 'AZURE_OPENAI_ENDPOINT',
          name: 'endpoint',
          label: 'Azure OpenAI endpoint',
          kind: 'url',
          required: true,
          hint: 'The resource, e.g. https://my-resource.openai.azure.com; the platform checks where it points when saved.',
        },
        {
          key: model,
          label: 'Azure OpenAI deployment',
          name: 'deployment',
          kind: 'text',
          required: true,
          hint: 'The deployment of that resource the calls use.',
        },
        {
          key: 'AZURE_OPENAI_API_VERSION',
          name: 'API version',
          label: 'Azure OpenAI API version',
          kind: 'text',
          required: false,
          defaultValue: AZURE_OPENAI_DEFAULT_API_VERSION,
          hint: 'Such as 2024-10-21 or 2025-04-01-preview.',
        },
      ];
    case 'custom-openai':
      return [
        {
          key: 'CUSTOM_OPENAI_BASE_URL',
          name: 'base URL',
          label: 'Endpoint base URL',
          kind: 'url',
          required: true,
          hint: 'The base before /chat/completions, e.g. https://llm.example.com/v1; the platform checks where it points when saved.',
        },
        {
          key: model,
          label: 'Endpoint model',
          name: 'model',
          kind: 'text',
          required: true,
          hint: 'A model the endpoint lists at GET /models.',
        },
      ];
    default: {
      const defaultValue = DEFAULT_MODELS[provider];
      return [
        {
          key: model,
          label: `${label} model`,
          name: 'model',
          kind: 'text',
          required: false,
          defaultValue,
          hint: `Validate now checks that ${label} lists it.`,
        },
      ];
    }
  }
}

export interface Tenant {
  id: string;
  subdomain: string;
  planType: 'free' | 'team' | 'enterprise';
  aiKeyMode: 'byok' | 'managed';
}

export type Me = { kind: 'platform' } | { kind: 'tenant'; tenant: Tenant; token: { id: string; name: string; scope: TokenScope } };

export interface Setting {
  key: string;
  isSecret: boolean;
  value?: string;
  last4: string | null;
  fingerprint: string | null;
  validationStatus: 'unknown' | 'valid' | 'invalid';
  validatedAt: string | null;
  updatedAt: string;
}

export interface ValidationResult {
  status: 'valid' | 'invalid';
  provider: ProviderId;
  checkedAt: string;
}

export interface Workspace {
  id: string;
  tenantId: string;
  name: string;
  createdAt: string;
}

export type BackfillStatus = 'queued' | 'preflight' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const ACTIVE_STATUSES: readonly BackfillStatus[] = ['queued', 'preflight', 'running'];

export interface Backfill {
  id: string;
  workspaceId: string;
  source: string;
  status: BackfillStatus;
  failure: { code: string; message: string } | null;
  counters: {
    recordsFetched: number;
    recordsProcessed: number;
    recordsFailed: number;
    itemsDropped: number;
    entities: number;
    relationships: number;
  };
  provider: ProviderId | null;
  keySource: 'request' | 'tenant' | 'platform' | null;
  keyLast4: string | null;
  retryOf: string | null;
  usage: JobUsage;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface GraphEntity {
  id: string;
  name: string;
  type: string;
  description: string;
  mentionCount: number;
}

export interface GraphRelationship {
  id: string;
  sourceId: string;
  targetId: string;
  description: string;
  strength: number;
}

export interface GraphPage {
  entities: GraphEntity[];
  /** The far ends of `relationships` that `entities` does not hold (another page's). */
  linkedEntities: GraphEntity[];
  relationships: GraphRelationship[];
  nextCursor: string | null;
}

export interface EntityDetail extends GraphEntity {
  mentions: { recordId: string; externalId: string; subject: string; from: string; sentAt: string }[];
}

/** One record a backfill could not extract (GET /v1/backfills/:id/failures). */
export interface FailedRecord {
  recordId: string;
  externalId: string;
  subject: string;
  code: string;
  reason: string;
  finishReason: string | null;
  attempts: number;
  createdAt: string;
}

export interface FailedRecordsPage {
  items: FailedRecord[];
  summary: { code: string; count: number }[];
  nextCursor: string | null;
}

/** The audit log's actions (GET /v1/tenants/:id/audit?action=) and how the dashboard names them. */
export const AUDIT_ACTION_LABELS = {
  'setting.put': 'Setting saved',
  'setting.delete': 'Setting removed',
  'setting.validate': 'Key validated',
  'token.create': 'Token created',
  'token.revoke': 'Token revoked',
  'token.rotate': 'Token rotated',
  'workspace.transfer': 'Workspace transferred',
  'workspace.delete': 'Workspace deleted',
  'tenant.key_mode': 'Key mode set',
  'imap_source.put': 'Mailbox saved',
  'imap_source.delete': 'Mailbox removed',
} as const;
export type AuditAction = keyof typeof AUDIT_ACTION_LABELS;

export interface KeyTrace {
  fingerprint: string | null;
  last4: string | null;
}

export interface AuditEvent {
  id: string;
  occurredAt: string;
  actor: { kind: 'platform' | 'tenant_token'; tokenId: string | null; label: string };
  action: string;
  settingKey: string | null;
  before: KeyTrace | null;
  after: KeyTrace | null;
  clientAddress: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

export interface AuditPage {
  items: AuditEvent[];
  nextCursor: string | null;
}

export type TokenScope = 'admin' | 'read';

/** A tenant token as the API lists it: never the token, only its first characters. */
export interface TokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  prefix: string | null;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface IssuedToken extends TokenInfo {
  token: string;
}

/** The events an endpoint may subscribe to (libs/webhooks WEBHOOK_EVENT_TYPES). */
export const WEBHOOK_EVENTS = ['backfill.succeeded', 'backfill.failed', 'key.invalid', 'budget.threshold'] as const;

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  secretMasked: string;
  createdAt: string;
  updatedAt: string;
  secretRotatedAt: string | null;
}

export interface IssuedWebhookEndpoint extends WebhookEndpoint {
  secret: string;
}

/** One attempt of the delivery log. */
export interface WebhookAttempt {
  id: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  deliveryStatus: 'pending' | 'delivered' | 'failed';
  attempt: number;
  outcome: 'delivered' | 'failed' | 'interrupted' | null;
  statusCode: number | null;
  durationMs: number | null;
  errorClass: string | null;
  attemptedAt: string;
}

/** What a job's provider calls used (the `usage` of a backfill view); cost in micro-USD. */
export interface JobUsage {
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  model: string | null;
}

export type UsageGroupBy = 'day' | 'provider' | 'model' | 'job';

export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
}

/** GET /v1/tenants/:id/usage: rows in [from, to) grouped by day, provider, provider/model or job. */
export interface UsageReport {
  from: string;
  to: string;
  groupBy: UsageGroupBy;
  items: (UsageTotals & { key: string })[];
  totals: UsageTotals;
}

export interface Budget {
  monthlyLimitUsd: number | null;
  monthlyLimitTokens: number | null;
  mode: 'alert' | 'hard';
  perJobLimitUsd: number | null;
  updatedAt: string;
}

/** GET/PUT /v1/tenants/:id/budget: the budget (null when none), this month (UTC, YYYY-MM) and its spend. */
export interface BudgetStatus {
  budget: Budget | null;
  period: string;
  spent: { costMicroUsd: number; tokens: number };
}

/** POST /v1/workspaces/:id/backfills/estimate. */
export interface BackfillEstimate {
  records: number;
  characters: number;
  calls: number;
  estimatedInputTokens: number;
  estimatedOutputTokens: number;
  estimatedCostMicroUsd: number;
  provider: string;
  model: string;
  pricesAsOf: string;
  resumedFrom: string | null;
  outputRatioFrom: 'history' | 'default';
}

export type MailboxTlsMode = 'implicit' | 'starttls' | 'none';
export type MailboxAuthMethod = 'password' | 'xoauth2';
export type MailboxStatus = 'unknown' | 'valid' | 'invalid';

/** GET /v1/workspaces/:id/imap-source: a workspace's mailbox; its secret only as last4 and fingerprint. */
export interface Mailbox {
  workspaceId: string;
  host: string;
  port: number;
  tlsMode: MailboxTlsMode;
  username: string;
  authMethod: MailboxAuthMethod;
  secretLast4: string | null;
  secretFingerprint: string;
  folders: string[];
  since: string | null;
  status: MailboxStatus;
  /** Why it is invalid (IMAP_AUTH_FAILED). */
  statusCode: string | null;
  checkedAt: string | null;
  updatedAt: string;
}

/** POST /v1/workspaces/:id/imap-source/test: each folder's message count. */
export interface MailboxTest {
  status: 'valid';
  folders: { name: string; messages: number; uidValidity: string }[];
}

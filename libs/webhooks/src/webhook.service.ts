import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { KeyCipher } from '#libs/byok';
import { AppConfig } from '#libs/config';
import type { WebhookEndpoint } from '#libs/database';
import { EgressPolicy } from '#libs/egress';
import { type DeliveryLogEntry, WebhookDeliveryRepository } from './webhook-delivery.repository.js';
import { type EndpointChanges, WebhookEndpointRepository } from './webhook-endpoint.repository.js';
import { WebhookEndpointLimitError, WebhookNotFoundError } from './webhook.errors.js';
import { WEBHOOK_TEST_EVENT, type WebhookEventType } from './webhook-events.js';
import { WebhookOutboxRepository } from './webhook-outbox.repository.js';
import { generateWebhookSecret, maskWebhookSecret } from './webhook-signature.js';

/** An endpoint as the API shows it: the secret masked, never in clear. */
export interface WebhookEndpointInfo {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  secretMasked: string;
  createdAt: Date;
  updatedAt: Date;
  secretRotatedAt: Date | null;
}

/** An endpoint with its secret, answered once: at creation and at rotation. */
export interface IssuedWebhookEndpoint {
  endpoint: WebhookEndpointInfo;
  secret: string;
}

export interface NewWebhookEndpoint {
  url: string;
  description?: string | null;
  events: WebhookEventType[];
  enabled?: boolean;
}

/** The additional authenticated data of an endpoint's secret: a row copied to another tenant or endpoint no longer opens. */
export function webhookSecretContext(tenantId: string, endpointId: string): string {
  return `${tenantId}:webhook:${endpointId}`;
}

/**
 * A tenant's webhook endpoints (callers pass the tenant id of a tenant read in the caller's scope):
 * URLs pass the egress policy when saved, secrets are generated here, sealed with KeyCipher and shown once.
 */
@Injectable()
export class WebhookService {
  constructor(
    private readonly endpoints: WebhookEndpointRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly outbox: WebhookOutboxRepository,
    private readonly cipher: KeyCipher,
    private readonly egress: EgressPolicy,
    private readonly config: AppConfig,
  ) {}

  /** @throws EgressRefusedError (the URL), WebhookEndpointLimitError (WEBHOOK_MAX_ENDPOINTS reached) */
  async create(tenantId: string, input: NewWebhookEndpoint): Promise<IssuedWebhookEndpoint> {
    const url = this.egress.checkUrl(input.url).href;
    const id = randomUUID();
    const secret = generateWebhookSecret();
    const row = await this.endpoints.create(
      tenantId,
      id,
      { url, description: input.description ?? null, events: [...new Set(input.events)], enabled: input.enabled ?? true },
      this.seal(tenantId, id, secret),
      this.config.webhooks.maxEndpoints,
    );
    if (!row) throw new WebhookEndpointLimitError(this.config.webhooks.maxEndpoints);
    return { endpoint: toInfo(row), secret };
  }

  async list(tenantId: string): Promise<WebhookEndpointInfo[]> {
    return (await this.endpoints.list(tenantId)).map(toInfo);
  }

  /** @throws WebhookNotFoundError */
  async get(tenantId: string, endpointId: string): Promise<WebhookEndpointInfo> {
    return toInfo(await this.found(this.endpoints.findById(tenantId, endpointId)));
  }

  /** @throws WebhookNotFoundError, EgressRefusedError (a new URL) */
  async update(tenantId: string, endpointId: string, changes: EndpointChanges): Promise<WebhookEndpointInfo> {
    await this.found(this.endpoints.findById(tenantId, endpointId));
    const checked = { ...changes, ...(changes.url !== undefined ? { url: this.egress.checkUrl(changes.url).href } : {}) };
    if (checked.events) checked.events = [...new Set(checked.events)];
    return toInfo(await this.found(this.endpoints.update(tenantId, endpointId, checked)));
  }

  /** @throws WebhookNotFoundError */
  async delete(tenantId: string, endpointId: string): Promise<void> {
    if (!(await this.endpoints.delete(tenantId, endpointId))) throw new WebhookNotFoundError();
  }

  /** A new secret, answered once; the old one signs nothing from now on. @throws WebhookNotFoundError */
  async rotateSecret(tenantId: string, endpointId: string): Promise<IssuedWebhookEndpoint> {
    await this.found(this.endpoints.findById(tenantId, endpointId));
    const secret = generateWebhookSecret();
    const row = await this.found(this.endpoints.replaceSecret(tenantId, endpointId, this.seal(tenantId, endpointId, secret)));
    return { endpoint: toInfo(row), secret };
  }

  /**
   * Queues a `webhook.test` ping to this endpoint alone (enabled or not, whatever it subscribed to).
   * Returns the event id (its `webhook-id`). @throws WebhookNotFoundError
   */
  async sendTest(tenantId: string, endpointId: string): Promise<{ eventId: string }> {
    const endpoint = await this.found(this.endpoints.findById(tenantId, endpointId));
    const eventId = await this.outbox.append(
      tenantId,
      WEBHOOK_TEST_EVENT,
      { endpointId: endpoint.id, message: 'A test event sent from the API' },
      undefined,
      endpoint.id,
    );
    return { eventId };
  }

  /** The endpoint's delivery log, newest attempt first. @throws WebhookNotFoundError */
  async deliveryLog(
    tenantId: string,
    endpointId: string,
    page: { limit: number; cursor?: bigint },
  ): Promise<{ items: DeliveryLogEntry[]; nextCursor: string | null }> {
    const endpoint = await this.found(this.endpoints.findById(tenantId, endpointId));
    return this.deliveries.log(tenantId, endpoint.id, page.limit, page.cursor);
  }

  private seal(tenantId: string, endpointId: string, secret: string) {
    return { sealed: this.cipher.encrypt(secret, webhookSecretContext(tenantId, endpointId)), last4: secret.slice(-4) };
  }

  private async found(row: Promise<WebhookEndpoint | null>): Promise<WebhookEndpoint> {
    const endpoint = await row;
    if (!endpoint) throw new WebhookNotFoundError();
    return endpoint;
  }
}

function toInfo(row: WebhookEndpoint): WebhookEndpointInfo {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    secretMasked: maskWebhookSecret(row.secretLast4),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    secretRotatedAt: row.secretRotatedAt,
  };
}

import { Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '#libs/common';
import { TenantService, type TenantScope } from '#libs/tenancy';
import { type WebhookEndpointInfo, WebhookService } from '#libs/webhooks';
import { CurrentScope } from '../auth/scope.js';
import { ApiErrors } from '../http/api-errors.js';
import { UuidParam, ValidBody, ValidQuery } from '../http/zod-validation.js';
import {
  type CreateWebhookBody,
  createWebhookBody,
  type DeliveryLogPage,
  type DeliveryLogQuery,
  deliveryLogQuery,
  deliveryLogView,
  type IssuedWebhookView,
  issuedWebhookView,
  toIssuedWebhookView,
  toWebhookListView,
  type UpdateWebhookBody,
  updateWebhookBody,
  webhookListView,
  webhookTestView,
  webhookView,
} from './webhooks.dto.js';
import { ApiSuccess } from '../http/api-success.js';
import { EXAMPLE } from '../http/example-values.js';
import { deliveryLogExample, issuedWebhookExample, rotatedWebhookExample, webhookExample, webhookTestExample } from './webhooks.examples.js';

/**
 * A tenant's webhook endpoints and their delivery log. The platform admin or the tenant's tokens:
 * admin scope writes, read scope lists and reads; another tenant's answers 404. A URL the egress
 * policy refuses answers 400 EGRESS_REFUSED.
 */
@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v1/tenants/:tenantId/webhooks')
export class WebhooksController {
  constructor(
    private readonly tenants: TenantService,
    private readonly webhooks: WebhookService,
  ) {}

  /** The secret is in this answer only. */
  @Post()
  @ApiOperation({
    summary: 'Create a webhook endpoint',
    description:
      'The signing secret (Standard Webhooks, `whsec_…`) is in this answer only; afterwards it shows masked. The URL is checked by the egress policy (400 EGRESS_REFUSED); ' +
      'a tenant has at most WEBHOOK_MAX_ENDPOINTS endpoints (409).',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.EgressRefused, ErrorCode.WebhookEndpointLimit)
  @HttpCode(201)
  @ApiSuccess(201, issuedWebhookView, issuedWebhookExample, 'The endpoint, with its signing secret shown this once')
  async create(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @ValidBody(createWebhookBody, { url: 'https://hooks.example.com/byok', description: 'Ops alerts', events: ['backfill.failed', 'key.invalid'] })
    body: CreateWebhookBody,
  ): Promise<IssuedWebhookView> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return toIssuedWebhookView(await this.webhooks.create(tenant.id, body));
  }

  @Get()
  @ApiOperation({
    summary: "List a tenant's webhook endpoints",
    description: 'Each with its secret masked (`whsec_…` and the last four characters).',
  })
  @ApiErrors(ErrorCode.TenantNotFound)
  @ApiSuccess(200, webhookListView, { items: [webhookExample] })
  async list(@CurrentScope() scope: TenantScope, @UuidParam('tenantId') tenantId: string): Promise<{ items: WebhookEndpointInfo[] }> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return toWebhookListView(await this.webhooks.list(tenant.id));
  }

  @Get(':endpointId')
  @ApiOperation({ summary: 'Get a webhook endpoint', description: 'Its secret masked.' })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.WebhookNotFound)
  @ApiSuccess(200, webhookView, webhookExample)
  async get(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('endpointId') endpointId: string,
  ): Promise<WebhookEndpointInfo> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.webhooks.get(tenant.id, endpointId);
  }

  @Patch(':endpointId')
  @ApiOperation({
    summary: 'Change a webhook endpoint',
    description:
      'Any of url, description, events, enabled; a new URL is checked by the egress policy. Disabling it dead-letters what was pending for it.',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.WebhookNotFound, ErrorCode.EgressRefused)
  @ApiSuccess(200, webhookView, { ...webhookExample, enabled: false, updatedAt: EXAMPLE.finishedAt })
  async update(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('endpointId') endpointId: string,
    @ValidBody(updateWebhookBody, { enabled: false }) body: UpdateWebhookBody,
  ): Promise<WebhookEndpointInfo> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.webhooks.update(tenant.id, endpointId, body);
  }

  /** Its pending deliveries and its log go with it. */
  @Delete(':endpointId')
  @ApiOperation({ summary: 'Delete a webhook endpoint', description: 'Its pending deliveries and its log go with it.' })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.WebhookNotFound)
  @HttpCode(204)
  @ApiNoContentResponse()
  async delete(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('endpointId') endpointId: string,
  ): Promise<void> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    await this.webhooks.delete(tenant.id, endpointId);
  }

  /** A new secret, in this answer only; the old one signs nothing from now on. */
  @Post(':endpointId/rotate-secret')
  @ApiOperation({
    summary: "Rotate a webhook endpoint's secret",
    description: 'A new secret, in this answer only; the old one signs nothing from now on.',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.WebhookNotFound)
  @HttpCode(201)
  @ApiSuccess(201, issuedWebhookView, rotatedWebhookExample, 'The endpoint, with its new signing secret shown this once')
  async rotateSecret(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('endpointId') endpointId: string,
  ): Promise<IssuedWebhookView> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return toIssuedWebhookView(await this.webhooks.rotateSecret(tenant.id, endpointId));
  }

  /** Queues a `webhook.test` ping to this endpoint; its delivery shows in the log. */
  @Post(':endpointId/test')
  @ApiOperation({
    summary: 'Send a test event',
    description: 'Queues a `webhook.test` ping to this endpoint alone, enabled or not; its delivery shows in the log.',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.WebhookNotFound)
  @HttpCode(202)
  @ApiSuccess(202, webhookTestView, webhookTestExample, 'The ping is queued')
  async test(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('endpointId') endpointId: string,
  ): Promise<{ eventId: string }> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.webhooks.sendTest(tenant.id, endpointId);
  }

  /** One row per attempt, newest first, keyset paginated (`nextCursor`). */
  @Get(':endpointId/deliveries')
  @ApiOperation({
    summary: "Read a webhook endpoint's delivery log",
    description: 'One row per attempt (outcome, status code, duration, error class; never a body or a secret), newest first, keyset paginated.',
  })
  @ApiErrors(ErrorCode.TenantNotFound, ErrorCode.WebhookNotFound)
  @ApiSuccess(200, deliveryLogView, deliveryLogExample)
  async deliveries(
    @CurrentScope() scope: TenantScope,
    @UuidParam('tenantId') tenantId: string,
    @UuidParam('endpointId') endpointId: string,
    @ValidQuery(deliveryLogQuery) query: DeliveryLogQuery,
  ): Promise<DeliveryLogPage> {
    const tenant = await this.tenants.getIn(scope, tenantId);
    return this.webhooks.deliveryLog(tenant.id, endpointId, { limit: query.limit, cursor: query.cursor });
  }
}

import { Module } from '@nestjs/common';
import { ByokModule } from '#libs/byok';
import { EgressModule } from '#libs/egress';
import { WebhookDeliveryJob } from './webhook-delivery.job.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';
import { WebhookDispatcher } from './webhook-dispatcher.service.js';
import { WebhookEndpointRepository } from './webhook-endpoint.repository.js';
import { WebhookOutboxRepository } from './webhook-outbox.repository.js';
import { WebhookPublisher } from './webhook-publisher.service.js';
import { WebhookSecretRotation } from './webhook-secret-rotation.service.js';
import { WebhookService } from './webhook.service.js';

/** Endpoints and the outbox, for every process that changes state or serves the API. */
@Module({
  imports: [ByokModule, EgressModule],
  providers: [WebhookEndpointRepository, WebhookDeliveryRepository, WebhookOutboxRepository, WebhookPublisher, WebhookService, WebhookSecretRotation],
  exports: [WebhookPublisher, WebhookService, WebhookEndpointRepository, WebhookDeliveryRepository, WebhookOutboxRepository, WebhookSecretRotation],
})
export class WebhooksModule {}

/** The worker's side: the dispatcher and the delivery job. */
@Module({
  imports: [WebhooksModule, ByokModule, EgressModule],
  providers: [WebhookDispatcher, WebhookDeliveryJob],
  exports: [WebhookDispatcher],
})
export class WebhookDeliveryModule {}

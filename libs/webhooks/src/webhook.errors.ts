import { AppError, ErrorCode, NotFoundError } from '#libs/common';

/** No endpoint of that id in the caller's tenant (another tenant's answers the same). */
export class WebhookNotFoundError extends NotFoundError {
  constructor() {
    super('Webhook endpoint not found', ErrorCode.WebhookNotFound);
  }
}

/** The tenant already has as many endpoints as WEBHOOK_MAX_ENDPOINTS allows (409): one must go before another is added. */
export class WebhookEndpointLimitError extends AppError {
  constructor(limit: number) {
    super(ErrorCode.WebhookEndpointLimit, `A tenant may have at most ${limit} webhook endpoints: delete one before adding another`);
  }
}

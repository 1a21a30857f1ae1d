import { ErrorCode, NotFoundError } from '#libs/common';

/** No endpoint of that id in the caller's tenant (another tenant's answers the same). */
export class WebhookNotFoundError extends NotFoundError {
  constructor() {
    super('Webhook endpoint not found', ErrorCode.WebhookNotFound);
  }
}

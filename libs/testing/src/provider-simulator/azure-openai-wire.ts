import { faultIn } from './fault-markers.js';
import { chatCompletion, lastUserText } from './openai-wire.js';
import type { FailureKind, WireFormat, WireReply, WireRequest } from './simulator-types.js';

// /openai/deployments/{deployment}/chat/completions, as the AzureOpenAI client builds it
const COMPLETIONS = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

function headerValue(request: WireRequest, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

/** Azure's error body: `{ error: { code, message } }`, its codes strings ("401", "DeploymentNotFound"). */
function error(status: number, code: string, message: string, headers?: Record<string, string>): WireReply {
  return { status, headers, body: { error: { code, message } } };
}

/** Azure's prompt filter: a 400 whose code is `content_filter` (https://learn.microsoft.com/azure/ai-services/openai/concepts/content-filter). */
function promptFiltered(): WireReply {
  return {
    status: 400,
    body: {
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { violence: { filtered: true, severity: 'high' } } },
      },
    },
  };
}

/**
 * Azure OpenAI's data plane (https://learn.microsoft.com/azure/ai-services/openai/reference): the key
 * in the `api-key` header (a key sent as `Authorization: Bearer` is no key to it: that header carries
 * Entra ID tokens), the deployment in the path, `api-version` required in the query. The deployments
 * are the simulator's model list for `azure-openai`; one not listed answers 404 DeploymentNotFound.
 */
export const azureOpenAiWire: WireFormat = {
  keyOf(request) {
    const value = headerValue(request, 'api-key');
    return value ? { value, location: 'header' } : undefined;
  },

  modelOf(request) {
    return COMPLETIONS.exec(request.route)?.[1];
  },

  apiVersionOf(request) {
    return request.query.get('api-version') ?? undefined;
  },

  answer(request) {
    const deployment = COMPLETIONS.exec(request.route)?.[1];
    if (request.method !== 'POST' || !deployment || !request.query.get('api-version')) return this.failure('not-found', request);
    if (!request.models.includes(decodeURIComponent(deployment))) {
      return error(
        404,
        'DeploymentNotFound',
        'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      );
    }
    if (request.faults && faultIn(lastUserText(request)) === 'blocked') return promptFiltered();
    return chatCompletion({ ...request, provider: 'azure-openai', body: { ...(request.body as object), model: decodeURIComponent(deployment) } });
  },

  failure(kind: FailureKind, _request, retryAfterSeconds = 7) {
    switch (kind) {
      case 'missing-key':
        return error(
          401,
          '401',
          'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
        );
      case 'invalid-key':
        return error(
          401,
          '401',
          'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
        );
      case 'permission-denied':
        return error(403, 'PermissionDenied', 'Principal does not have access to API/Operation.');
      case 'rate-limited':
        return error(
          429,
          '429',
          `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after ${retryAfterSeconds ?? 60} seconds.`,
          retryAfterSeconds === null ? undefined : { 'retry-after': String(retryAfterSeconds), 'retry-after-ms': String(retryAfterSeconds * 1000) },
        );
      case 'server-error':
        return error(500, 'InternalServerError', 'The server had an error while processing your request.');
      case 'overloaded':
        return error(503, 'ServiceUnavailable', 'The service is temporarily unable to process your request. Please try again later.');
      case 'bad-request':
        return error(400, 'BadRequest', 'Invalid request body.');
      case 'not-found':
        return error(404, '404', 'Resource not found');
    }
  },
};

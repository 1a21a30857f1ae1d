import { HttpStatus } from '@nestjs/common';
import { assertUnreachable, ErrorCode } from '#libs/common';

/** The one place an error code becomes an HTTP status; a new code that is not mapped does not compile. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
    case ErrorCode.MalformedJson:
    case ErrorCode.UnknownSettingKey:
    case ErrorCode.InvalidSettingValue:
    case ErrorCode.InvalidRecord:
    case ErrorCode.InvalidMbox:
    case ErrorCode.InvalidDate:
    case ErrorCode.ByokHeadersIncomplete:
    case ErrorCode.ByokProviderUnknown:
    case ErrorCode.ByokKeyInvalid:
    case ErrorCode.EgressRefused:
      return HttpStatus.BAD_REQUEST;
    case ErrorCode.UnsupportedMediaType:
      return HttpStatus.UNSUPPORTED_MEDIA_TYPE;
    case ErrorCode.Unauthenticated:
      return HttpStatus.UNAUTHORIZED;
    case ErrorCode.Forbidden:
    case ErrorCode.TokenReadOnly:
      return HttpStatus.FORBIDDEN;
    case ErrorCode.NotFound:
    case ErrorCode.TenantNotFound:
    case ErrorCode.WorkspaceNotFound:
    case ErrorCode.SettingNotFound:
    case ErrorCode.BackfillNotFound:
    case ErrorCode.AiJobNotFound:
    case ErrorCode.RecordNotFound:
    case ErrorCode.TombstoneNotFound:
    case ErrorCode.WorkspaceDeletionNotFound:
    case ErrorCode.TokenNotFound:
    case ErrorCode.WebhookNotFound:
    case ErrorCode.ImapSourceNotFound:
      return HttpStatus.NOT_FOUND;
    case ErrorCode.MethodNotAllowed:
      return HttpStatus.METHOD_NOT_ALLOWED;
    case ErrorCode.SubdomainTaken:
    case ErrorCode.BackfillAlreadyActive:
    case ErrorCode.BackfillNotCancellable:
    case ErrorCode.TokenRevoked:
    case ErrorCode.WebhookEndpointLimit:
      return HttpStatus.CONFLICT;
    case ErrorCode.PayloadTooLarge:
    case ErrorCode.RecordsLimit:
      return HttpStatus.PAYLOAD_TOO_LARGE;
    // a key the caller sent or stored is missing or refused: the request cannot be served as asked
    case ErrorCode.PlanNotEligible:
      return HttpStatus.FORBIDDEN;
    // a key missing or refused, a provider not set up, or a mailbox that refused the login, failed TLS or lacks a folder:
    // the tenant must change its settings
    case ErrorCode.NoApiKey:
    case ErrorCode.PlatformKeyMissing:
    case ErrorCode.InvalidApiKey:
    case ErrorCode.ModelNotAvailable:
    case ErrorCode.ProviderNotConfigured:
    case ErrorCode.ImapAuthFailed:
    case ErrorCode.ImapTlsFailed:
    case ErrorCode.ImapFolderNotFound:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    // a job's outcome; an AI job stores it as its error, nothing answers it over HTTP today
    case ErrorCode.ExtractionRefused:
    case ErrorCode.ContentBlocked:
    case ErrorCode.ExtractionTruncated:
    case ErrorCode.ExtractionUnparsable:
    case ErrorCode.ExtractionInvalid:
    case ErrorCode.RecordNotStorable:
    case ErrorCode.ExtractionFailing:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    // a hard budget is spent: the tenant must raise it (or wait for the next month) first (RFC 9110 15.5.21)
    case ErrorCode.BudgetExceeded:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case ErrorCode.BackfillNothingToRetry:
    case ErrorCode.TransferBlockedByActiveJob:
    case ErrorCode.DeletionBlockedByActiveJob:
      return HttpStatus.CONFLICT;
    // job outcomes stored on the row, never an answer to a request
    case ErrorCode.WorkerLost:
    case ErrorCode.WorkspaceTransferred:
      return HttpStatus.CONFLICT;
    case ErrorCode.RateLimited:
    case ErrorCode.TooManyAuthFailures:
    case ErrorCode.TooManyWrites:
      return HttpStatus.TOO_MANY_REQUESTS;
    case ErrorCode.UploadStalled:
      return HttpStatus.REQUEST_TIMEOUT;
    case ErrorCode.ProviderUnavailable:
    case ErrorCode.EgressUnreachable:
    case ErrorCode.ImapUnavailable:
      return HttpStatus.BAD_GATEWAY;
    // the read may succeed when the database is less busy: a retryable 503, not a 500
    case ErrorCode.GraphReadTimeout:
    case ErrorCode.DatabaseUnavailable:
    case ErrorCode.QueueUnavailable:
    case ErrorCode.ServiceBusy:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case ErrorCode.KeyDecryptionFailed:
    case ErrorCode.Internal:
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default:
      return assertUnreachable(code);
  }
}

/**
 * Every error code the product can answer with. The values are part of the public contract:
 * clients branch on them, so a value never changes once released.
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedJson = 'MALFORMED_JSON',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  // an upload passed one of the ingest caps (records, one record's size, nesting depth, one message's size) while being read
  RecordsLimit = 'RECORDS_LIMIT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  // a read-scope tenant token sent a request that changes something
  TokenReadOnly = 'TOKEN_READ_ONLY',
  TokenNotFound = 'TOKEN_NOT_FOUND',
  // a revoked token cannot be rotated (create a new one)
  TokenRevoked = 'TOKEN_REVOKED',
  // too many failed authentications from one client address or with one token prefix (HTTP 429 with Retry-After)
  TooManyAuthFailures = 'TOO_MANY_AUTH_FAILURES',
  // a tenant sent more writes (POST, PUT, PATCH, DELETE) than its per-window allowance (HTTP 429 with Retry-After)
  TooManyWrites = 'TOO_MANY_WRITES',
  NotFound = 'NOT_FOUND',
  // a known path asked with a method it does not serve (HTTP 405 with Allow, RFC 9110 section 15.5.6)
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  TenantNotFound = 'TENANT_NOT_FOUND',
  WorkspaceNotFound = 'WORKSPACE_NOT_FOUND',
  SettingNotFound = 'SETTING_NOT_FOUND',
  SubdomainTaken = 'SUBDOMAIN_TAKEN',
  BackfillNotFound = 'BACKFILL_NOT_FOUND',
  BackfillAlreadyActive = 'BACKFILL_ALREADY_ACTIVE',
  BackfillNotCancellable = 'BACKFILL_NOT_CANCELLABLE',
  PlanNotEligible = 'PLAN_NOT_ELIGIBLE',
  InvalidRecord = 'INVALID_RECORD',
  InvalidMbox = 'INVALID_MBOX',
  // a mail message with no usable send date (Date header and postmark date missing, unreadable or out of range)
  InvalidDate = 'INVALID_DATE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  ByokHeadersIncomplete = 'BYOK_HEADERS_INCOMPLETE',
  ByokProviderUnknown = 'BYOK_PROVIDER_UNKNOWN',
  ByokKeyInvalid = 'BYOK_KEY_INVALID',
  AiJobNotFound = 'AI_JOB_NOT_FOUND',
  UnknownSettingKey = 'UNKNOWN_SETTING_KEY',
  InvalidSettingValue = 'INVALID_SETTING_VALUE',
  KeyDecryptionFailed = 'KEY_DECRYPTION_FAILED',
  NoApiKey = 'NO_API_KEY',
  PlatformKeyMissing = 'PLATFORM_KEY_MISSING',
  InvalidApiKey = 'INVALID_API_KEY',
  // the provider accepts the key but does not offer the tenant's <PROVIDER>_MODEL
  ModelNotAvailable = 'MODEL_NOT_AVAILABLE',
  // a tenant-endpoint provider (azure-openai, custom-openai) lacks a setting it needs (endpoint, deployment, model)
  ProviderNotConfigured = 'PROVIDER_NOT_CONFIGURED',
  RateLimited = 'RATE_LIMITED',
  ProviderUnavailable = 'PROVIDER_UNAVAILABLE',
  // one record's answer could not be used; the job goes on and stores the failure with the record
  ExtractionRefused = 'EXTRACTION_REFUSED',
  ContentBlocked = 'CONTENT_BLOCKED',
  ExtractionTruncated = 'EXTRACTION_TRUNCATED',
  ExtractionUnparsable = 'EXTRACTION_UNPARSABLE',
  ExtractionInvalid = 'EXTRACTION_INVALID',
  RecordNotStorable = 'RECORD_NOT_STORABLE',
  // too many records failed: the job stopped spending the tenant's money
  ExtractionFailing = 'EXTRACTION_FAILING',
  BackfillNothingToRetry = 'BACKFILL_NOTHING_TO_RETRY',
  // the worker running a job died or lost it (killed, stalled, Redis lost the entry); the job resumes when started again
  WorkerLost = 'WORKER_LOST',
  TransferBlockedByActiveJob = 'TRANSFER_BLOCKED_BY_ACTIVE_JOB',
  // the workspace moved to another tenant after the job was started: its key may not touch the new owner's data
  WorkspaceTransferred = 'WORKSPACE_TRANSFERRED',
  // deletion: a record or tombstone that is not there, a deletion refused while a backfill runs, a deletion job
  RecordNotFound = 'RECORD_NOT_FOUND',
  TombstoneNotFound = 'TOMBSTONE_NOT_FOUND',
  DeletionBlockedByActiveJob = 'DELETION_BLOCKED_BY_ACTIVE_JOB',
  WorkspaceDeletionNotFound = 'WORKSPACE_DELETION_NOT_FOUND',
  // a graph read ran past GRAPH_STATEMENT_TIMEOUT_MS and Postgres cancelled it
  GraphReadTimeout = 'GRAPH_READ_TIMEOUT',
  // a dependency is down: the same request may succeed shortly (HTTP 503 with Retry-After)
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  QueueUnavailable = 'QUEUE_UNAVAILABLE',
  // an upload's client stopped sending before the body was complete (UPLOAD_IDLE_TIMEOUT_MS)
  UploadStalled = 'UPLOAD_STALLED',
  // more requests of one kind are waiting in this process than it takes (the graph bulkhead's line)
  ServiceBusy = 'SERVICE_BUSY',
  // a tenant's hard budget (monthly or per job) is spent: the job is refused or stops at a page boundary, resumable
  BudgetExceeded = 'BUDGET_EXCEEDED',
  // a tenant-supplied URL the egress policy refuses (scheme, credentials, or an address that is not public)
  EgressRefused = 'EGRESS_REFUSED',
  // an outbound request to a tenant's URL got no answer (timeout, DNS, connection); stored on deliveries
  EgressUnreachable = 'EGRESS_UNREACHABLE',
  WebhookNotFound = 'WEBHOOK_NOT_FOUND',
  // a tenant already has WEBHOOK_MAX_ENDPOINTS endpoints: every event fans out to each, so their number is bounded
  WebhookEndpointLimit = 'WEBHOOK_ENDPOINT_LIMIT',
  // a workspace's mailbox (issue 18): none connected; the server refused the login; it could not be
  // reached (retried, then the job fails resumable); its TLS failed; a folder it was told to read is not there
  ImapSourceNotFound = 'IMAP_SOURCE_NOT_FOUND',
  ImapAuthFailed = 'IMAP_AUTH_FAILED',
  ImapUnavailable = 'IMAP_UNAVAILABLE',
  ImapTlsFailed = 'IMAP_TLS_FAILED',
  ImapFolderNotFound = 'IMAP_FOLDER_NOT_FOUND',
  Internal = 'INTERNAL_ERROR',
}

import { AppError, ErrorCode } from '#libs/common';

/** Postgres cannot be reached or is shutting down: the request may succeed once it is back (HTTP 503). */
export class DatabaseUnavailableError extends AppError {
  constructor() {
    super(ErrorCode.DatabaseUnavailable, 'The database is unavailable; try again shortly');
  }
}

// Prisma: can't reach (P1001), connect timeout (P1002), operation timeout (P1008), server closed
// the connection (P1017), no pool connection in time (P2024)
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// what @prisma/adapter-pg calls a socket error (refused, reset, timed out) or a full server
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
// SQLSTATE: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections; class 08 is connection exceptions
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// pg and pg-pool raise these as plain Errors, which the adapter passes on unconverted
const DRIVER_MESSAGES = /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect)$/;

/**
 * Whether `error` (as Prisma, @prisma/adapter-pg, pg or pg-pool raise it, however wrapped) means
 * Postgres is unreachable or going away rather than that the query was wrong. The one place such
 * failures are recognised: the API turns them into 503 DATABASE_UNAVAILABLE, the worker can use it
 * to leave a job for later instead of failing it.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length) {
    const item = pending.pop();
    if (typeof item !== 'object' || item === null || seen.has(item) || seen.size > 16) continue;
    seen.add(item);
    const { code, kind, message, meta, cause } = item as Record<string, unknown>;
    if (typeof code === 'string' && (PRISMA_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) return true;
    if (item instanceof Error && typeof message === 'string' && DRIVER_MESSAGES.test(message)) return true;
    pending.push(cause, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
  }
  return false;
}

/** `error` as DatabaseUnavailableError when it means Postgres is away (see isDatabaseUnavailable), else undefined. */
export function asDatabaseUnavailable(error: unknown): DatabaseUnavailableError | undefined {
  if (error instanceof DatabaseUnavailableError) return error;
  return isDatabaseUnavailable(error) ? new DatabaseUnavailableError() : undefined;
}

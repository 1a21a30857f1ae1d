/** Socket-level error codes (Node) that mean the server cannot be reached or dropped the connection. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED']);
/**
 * SQLSTATEs of a server that is going away or not accepting connections (PostgreSQL, Appendix A):
 * class 08 (connection exception), 57P01-57P03 (admin/crash shutdown, cannot connect now).
 */
const SQLSTATES = /^(08\d{3}|57P0[1-3])$/;
/** Prisma's codes for an unreachable server, a closed connection and a pool that gave no connection in time. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** The kinds @prisma/adapter-pg gives socket failures. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout']);
/** node-postgres reports a dropped connection or a pool timeout only in words. */
const MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection ended unexpectedly/i,
  /Client has encountered a connection error/i,
];

/**
 * True when an error from Prisma, @prisma/adapter-pg or node-postgres means the database is
 * unreachable (down, restarting, refusing connections), not that a statement was wrong: worth
 * waiting for, never a reason to fail a job. Follows `cause` chains (driver errors are wrapped).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { code?: unknown; kind?: unknown; message?: unknown; originalCode?: unknown; cause?: unknown };
    for (const code of [e.code, e.originalCode]) {
      if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.test(code) || PRISMA_CODES.has(code))) return true;
    }
    if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true;
    current = e.cause;
  }
  return false;
}

import { AppError, ErrorCode } from '#libs/common';

/** Redis (the queue) cannot be reached or did not answer in time: the request may succeed once it is back (HTTP 503). */
export class QueueUnavailableError extends AppError {
  constructor() {
    super(ErrorCode.QueueUnavailable, 'The job queue is unavailable; try again shortly');
  }
}

/** Our own deadline on a queue command, so the caller is answered while Redis is away. */
export class QueueDeadlineError extends Error {
  constructor(ms: number) {
    super(`The queue did not answer within ${ms} ms`);
  }
}

// ioredis without an offline queue, after its retries, or once closed
const CLIENT_MESSAGES = [/^Stream isn't writeable/, /^Reached the max retries per request limit/, /^Connection is closed/];
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED']);
// a server that is up but cannot serve yet: loading its data set, busy with a script, no master
const SERVER_STATES = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN) /;

/**
 * Whether `error`, raised by a queue (BullMQ over ioredis) command, means Redis is unreachable or not
 * serving rather than that the command was wrong.
 */
export function isQueueUnavailable(error: unknown): boolean {
  for (let item = error, depth = 0; item instanceof Error && depth < 8; item = item.cause, depth++) {
    if (item instanceof QueueUnavailableError || item instanceof QueueDeadlineError) return true;
    if (item.name === 'MaxRetriesPerRequestError' || item.name === 'ConnectionClosedError') return true;
    const code = (item as { code?: unknown }).code;
    if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
    if (CLIENT_MESSAGES.some((pattern) => pattern.test(item.message)) || SERVER_STATES.test(item.message)) return true;
  }
  return false;
}

/**
 * `command`, answered within `ms`, its failure typed when Redis is away. A command that outlives the
 * deadline may still complete later: `lateResult` then receives its value (e.g. to undo a late add).
 * @throws QueueUnavailableError (Redis refused, dropped or did not answer in time); other errors as they are
 */
export async function withinQueueDeadline<T>(command: Promise<T>, ms: number, lateResult: (value: T) => void = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new QueueDeadlineError(ms));
    }, ms);
  });
  command.then(
    (value) => {
      if (late) lateResult(value);
    },
    () => undefined,
  );
  try {
    return await Promise.race([command, deadline]);
  } catch (error) {
    throw isQueueUnavailable(error) ? new QueueUnavailableError() : error;
  } finally {
    clearTimeout(timer);
  }
}

import type { Response } from 'express';

/**
 * A signal that aborts when the client goes away before its answer was written (socket closed), so
 * the work done for it (a database read) can be cancelled instead of running on for nobody.
 */
export function clientAbortSignal(response: Response): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}

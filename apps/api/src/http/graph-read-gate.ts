import type { NextFunction, Request, RequestHandler, Response } from 'express';
import pLimit from 'p-limit';
import { AppError, ErrorCode } from '#libs/common';

// express routes ignore case and a trailing slash: the gate must match every spelling they serve
const GRAPH_ROUTE = /^\/v1\/workspaces\/[^/]+\/graph(\/|$)/i;
/** Waiting requests per working slot before new ones are turned away (503 with Retry-After). */
const QUEUE_PER_SLOT = 64;

/**
 * A bulkhead for graph reads: at most `maxConcurrent` graph requests are worked on at once in this
 * process, the others wait in line (first come, first served) before any of their work (routing,
 * logging, authentication, the read) runs. Graph pages are the heaviest answers the API writes; under a
 * crowd of graph readers the event loop would otherwise run every one of them between two steps of any
 * other request, so a job-status read (two loop turns: the query, then the answer) waited behind
 * dozens of graph pages twice. A request is in line from its arrival until its answer is written or its
 * client went away (`close`); one whose client left while waiting is dropped when its turn comes.
 * The line is bounded (QUEUE_PER_SLOT per slot): past it a graph request answers 503
 * SERVICE_BUSY with Retry-After at once. Registered first in bootstrap.ts, so nothing runs for a
 * waiting request.
 */
export function graphReadGate(maxConcurrent: number): RequestHandler & { waiting(): number } {
  const limit = pLimit(maxConcurrent);
  const maxWaiting = maxConcurrent * QUEUE_PER_SLOT;
  const gate = (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !GRAPH_ROUTE.test(req.path)) {
      next();
      return;
    }
    if (limit.pendingCount >= maxWaiting) {
      next(new AppError(ErrorCode.ServiceBusy, `Too many graph reads are waiting (${maxWaiting}); try again shortly`));
      return;
    }
    void limit(
      () =>
        new Promise<void>((done) => {
          if (req.socket.destroyed) {
            done();
            return;
          }
          res.once('close', () => done());
          next();
        }),
    );
  };
  // how many graph requests wait for a slot (for tests and diagnostics)
  return Object.assign(gate, { waiting: () => limit.pendingCount });
}

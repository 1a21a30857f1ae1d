import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { getQueueToken } from '@nestjs/bullmq';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { jobDataForDisplay, QueueName } from '#libs/queue';
import { ForbiddenError, UnauthenticatedError } from '../auth/auth.errors.js';
import { Authenticator } from '../auth/authenticator.js';

/** Where the queue board is mounted. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * The board's page: its scripts, styles and fonts from this origin only; styles may be inline (the
 * page has a <style> block and the UI sets style attributes); its <base href> must point here;
 * never framed, no form posts anywhere. The rest of the app keeps its own, stricter policies.
 */
const BOARD_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  baseUri: ["'self'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/**
 * The queue board (bull-board) at /admin/queues, for the platform admin only. A browser cannot add a
 * bearer header to a page it loads, so the board takes HTTP Basic authentication with the admin token
 * as the password (any user name; the browser asks once and resends it with every request of the
 * board, including its API calls), and a bearer header as everywhere else; failures are counted and
 * limited like every authentication. A tenant token is refused 403, no or a wrong one 401 with a
 * Basic challenge. The board is read-only (bull-board refuses retries, removals, added or edited jobs
 * with 405): a job's row, not its queue entry, is the record, and changing entries behind the rows'
 * backs would leave them wrong; cancels and retries go through the API. Job data is shown without
 * sealed request keys.
 */
export function mountQueueBoard(app: NestExpressApplication): void {
  const server = new ExpressAdapter().setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: Object.values(QueueName).map((name) => {
      const adapter = new BullMQAdapter(app.get<Queue>(getQueueToken(name)), { readOnlyMode: true, allowRetries: false });
      adapter.setFormatter('data', jobDataForDisplay);
      return adapter;
    }),
    serverAdapter: server,
    options: { uiConfig: { boardTitle: 'BYOK queues' } },
  });
  const authenticator = app.get(Authenticator);
  app.use(QUEUE_BOARD_PATH, helmet(boardHeaders()), adminOnly(authenticator), server.getRouter());
}

function boardHeaders() {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: BOARD_CSP },
    frameguard: { action: 'deny' as const },
    referrerPolicy: { policy: 'no-referrer' as const },
    crossOriginOpenerPolicy: { policy: 'same-origin' as const },
    crossOriginResourcePolicy: { policy: 'same-origin' as const },
  };
}

/** Lets the platform admin through; answers everyone else before the board sees the request. */
function adminOnly(authenticator: Authenticator) {
  return (req: Request, res: Response, next: NextFunction) => {
    // nothing of the board may be kept by a shared cache or the browser after the admin leaves
    res.setHeader('Cache-Control', 'no-store');
    authenticator.principalOf(req.headers.authorization, req.ip ?? req.socket.remoteAddress ?? 'unknown', { basic: true }).then(
      (principal) => {
        if (principal?.kind === 'platform') return next();
        if (principal) return next(new ForbiddenError('Only the platform admin may see the queues'));
        res.setHeader('WWW-Authenticate', 'Basic realm="BYOK queues (the admin token is the password)", charset="UTF-8"');
        next(new UnauthenticatedError());
      },
      (error: unknown) => next(error),
    );
  };
}

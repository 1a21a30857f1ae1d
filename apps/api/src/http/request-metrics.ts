import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Metrics } from '#libs/metrics';

/** Paths served outside Nest's routing, labelled by their mount point. */
const MOUNTS = ['/admin/queues', '/dashboard', '/docs'];

/**
 * Times every request, to byok_http_request_duration_seconds by method, route and status class. The
 * route is the template express matched (`/v1/workspaces/:workspaceId/backfills`), never the path as
 * sent: ids would make the series unbounded, and a key pasted into a URL must never become a label.
 * A request answered before any route matched (the graph bulkhead, a refused body) or by none (an
 * unknown path) counts as `unrouted`; the static mounts by their prefix.
 */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    res.once('close', () => metrics.httpRequest(req.method, routeOf(req), res.statusCode, (performance.now() - started) / 1_000));
    next();
  };
}

function routeOf(req: Request): string {
  const template: unknown = (req.route as { path?: unknown } | undefined)?.path;
  // a catch-all (Nest's not-found route `{/*splat}`) matched no route of the API
  if (typeof template === 'string' && !template.includes('*')) return `${req.baseUrl}${template}`;
  const path = req.originalUrl.split('?')[0].toLowerCase();
  return MOUNTS.find((mount) => path === mount || path.startsWith(`${mount}/`)) ?? 'unrouted';
}

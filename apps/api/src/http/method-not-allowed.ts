import { METHODS } from 'node:http';
import { AppError, ErrorCode } from '#libs/common';

/** What this module needs of express's router (router 2.x): its layers, and a route's path matchers and methods. */
interface RouterLayer {
  route?: { methods: Record<string, boolean | undefined> };
  /** path-to-regexp matchers compiled by the router with the app's options (any letter case, a trailing slash). */
  matchers?: ((path: string) => unknown)[];
}

interface ExpressAppLike {
  router?: { stack?: RouterLayer[] };
}

/**
 * A known path asked with a method none of its routes serves: 405 with `Allow` listing the methods
 * that are served (RFC 9110 section 15.5.6). The message names the method and the allowed ones, never
 * the path (a key pasted into a URL is never echoed).
 */
export class MethodNotAllowedError extends AppError {
  constructor(
    method: string,
    /** The `Allow` header's methods, upper case. */
    readonly allow: readonly string[],
  ) {
    super(ErrorCode.MethodNotAllowed, `${method} is not allowed on this path; it allows ${allow.join(', ')}`);
  }
}

/**
 * The methods the app's registered routes serve at `path` (a request's path, without its query), as an
 * `Allow` header lists them: each route's own, HEAD wherever GET is (express answers HEAD with the GET
 * route) and OPTIONS (answered with this list); empty when no route has the path (a 404). Matched
 * with the router's own compiled path templates, so a path with parameters (`/v1/tenants/:tenantId`)
 * and every spelling express routes (letter case, trailing slash) count as known.
 */
export function allowedMethods(app: ExpressAppLike, path: string): string[] {
  const methods = new Set<string>();
  for (const layer of app.router?.stack ?? []) {
    if (!layer.route || isEveryMethod(layer.route.methods) || !layer.matchers?.some((match) => match(path) !== false)) continue;
    for (const [method, served] of Object.entries(layer.route.methods)) if (served) methods.add(method.toUpperCase());
  }
  if (methods.size === 0) return [];
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  return [...methods].sort();
}

/**
 * A route for every method (express's `route.all`, which lists each of node's methods) is Nest's way
 * of mounting middleware (`{/*splat}`, the request logger's), not a handler: it says nothing of a path.
 */
function isEveryMethod(methods: Record<string, boolean | undefined>): boolean {
  return METHODS.every((method) => methods[method.toLowerCase()] === true);
}

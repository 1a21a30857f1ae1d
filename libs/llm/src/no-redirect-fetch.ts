const INSTALLED = Symbol.for('byok-llm.fetch-refuses-redirects');

type PatchedGlobal = typeof globalThis & { [INSTALLED]?: true };

/**
 * Makes this process's global `fetch` answer a 3xx as it is (`redirect: 'manual'`) instead of
 * following it, unless a caller asks for another mode. The Gemini SDK (@google/generative-ai 0.24)
 * calls the global fetch with no way to pass `redirect`, and fetch's default, `follow`, re-sends
 * `x-goog-api-key` to wherever Location points, another origin included (the Fetch standard strips
 * only `Authorization` on a cross-origin redirect: https://fetch.spec.whatwg.org/#http-redirect-fetch).
 * With `manual` the SDK sees the 3xx as a failed answer, which becomes a ProviderUnavailableError
 * naming the status. Idempotent; installed when the first Gemini client is built.
 */
export function refuseRedirectsInGlobalFetch(): void {
  const scope = globalThis as PatchedGlobal;
  if (scope[INSTALLED]) return;
  const follow = scope.fetch.bind(scope);
  scope.fetch = (input: string | URL | Request, init?: RequestInit) => follow(input, { ...init, redirect: init?.redirect ?? 'manual' });
  scope[INSTALLED] = true;
}

/** The tenant admin token lives in sessionStorage only: it is gone when the tab closes, and never in localStorage or a cookie. */
const TOKEN_KEY = 'byok-dashboard.token';

export const session = {
  token(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  save(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage disabled: nothing was kept
    }
  },
};

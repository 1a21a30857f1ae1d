/**
 * Runs `fn` with a signal that aborts after `ms`. Unlike the Gemini SDK's own `timeout` option,
 * the timer is cleared when the call ends, so finished calls leave no timers behind.
 */
export async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

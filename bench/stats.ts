/** Percentile summary of per-operation timings, in microseconds. */
export function summarize(samplesNs: bigint[]): { p50: number; p99: number; mean: number; opsPerSec: number } {
  const us = samplesNs.map((ns) => Number(ns) / 1_000).sort((a, b) => a - b);
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))];
  const total = us.reduce((a, b) => a + b, 0);
  return { p50: at(0.5), p99: at(0.99), mean: total / us.length, opsPerSec: us.length / (total / 1e6) };
}

export function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

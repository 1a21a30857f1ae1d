/**
 * V8 flags the worker process runs with (used by `npm start`, `npm run start:worker` and the
 * benchmark). Without a cap V8 lets a busy worker's heap grow far past its live set; these keep a
 * 200,000-record backfill under 300 MB resident at no measurable cost in throughput
 * (see bench/backfill.ts).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-old-space-size=144', '--max-semi-space-size=32'];

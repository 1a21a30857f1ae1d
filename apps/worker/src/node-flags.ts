/**
 * V8 flags the worker process runs with (used by `npm start`, `npm run start:worker`, the benchmark
 * and the long-records e2e test; a spec keeps package.json's `start:worker` equal). The old-space cap
 * keeps V8 from letting a busy worker's heap grow far past its live set; a 16 MB semi-space (young
 * generation) halves what the 32 MB one held resident at no measurable cost in throughput; one
 * platform worker thread spends less on per-thread stacks and GC helper buffers on a 2-core host.
 * Measured with bench/backfill.ts: peak RSS under 256 MB at 20,000 ordinary records and at 400
 * records of 200,000 characters.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-old-space-size=144', '--max-semi-space-size=16', '--v8-pool-size=1'];

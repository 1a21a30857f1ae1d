import { type Job, UnrecoverableError } from 'bullmq';
import type { RequestKey, RequestKeySealer, SealedRequestKey } from '#libs/byok';

/** Opens a job's sealed request key, if it carries one. */
export function openSealedKey(sealer: RequestKeySealer, job: Job<{ sealedKey?: SealedRequestKey }>, jobId: string): RequestKey | undefined {
  return job.data.sealedKey ? sealer.open(job.data.sealedKey, jobId) : undefined;
}

/** Once a job has ended, its sealed key leaves Redis: the payload is rewritten without it. */
export async function eraseSealedKey<T extends { sealedKey?: SealedRequestKey }>(job: Job<T>): Promise<void> {
  if (!job.data.sealedKey) return;
  const { sealedKey: _erased, ...rest } = job.data;
  await job.updateData(rest as T);
}

type RunResult = { status: string } | { status: 'failed'; failure: { code: string; message: string } };

/**
 * The end of a job's run: its sealed key is erased, and a typed failure becomes an
 * UnrecoverableError so BullMQ records it without retrying.
 */
export async function endJob<T extends { sealedKey?: SealedRequestKey }, R extends RunResult>(job: Job<T>, result: R): Promise<R> {
  await eraseSealedKey(job);
  if ('failure' in result) throw new UnrecoverableError(`${result.failure.code}: ${result.failure.message}`);
  return result;
}

/** An attempt that failed on something untyped, which BullMQ may retry. */
export function isUntypedFailure(error: Error): boolean {
  return !(error instanceof UnrecoverableError) && error.name !== 'UnrecoverableError';
}

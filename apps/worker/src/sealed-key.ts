import type { Job } from 'bullmq';
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

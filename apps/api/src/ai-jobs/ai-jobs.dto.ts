import { z } from 'zod';
import { PROVIDER_IDS, uuidSchema } from '#libs/common';
import { type AiJob, AiJobStatus } from '#libs/database';
import { type JobUsage, jobUsageOr } from '#libs/usage';
import { failureView, keySourceView, jobUsageView } from '../http/views.js';

export const MAX_EXTRACT_TEXT_CHARS = 100_000;

export const extractJobBody = z.strictObject({
  text: z
    .string({ error: 'text must be a string' })
    .min(1, { error: 'text must not be empty' })
    .max(MAX_EXTRACT_TEXT_CHARS, { error: `text must be at most ${MAX_EXTRACT_TEXT_CHARS} characters` })
    .meta({ description: 'The text to extract entities and relationships from' }),
  provider: z
    .enum(PROVIDER_IDS, { error: `provider must be one of ${PROVIDER_IDS.join(', ')}` })
    .optional()
    .meta({ description: "Without BYOK headers: the provider to use with the tenant's key mode" }),
  tenantId: z
    .guid({ error: 'tenantId must be a UUID' })
    .optional()
    .meta({ description: 'Required for the platform admin; a tenant token acts for its own tenant' }),
});
export type ExtractJobBody = z.output<typeof extractJobBody>;

export const aiJobStartedView = z.object({ jobId: uuidSchema() });

export const aiJobView = z.object({
  id: uuidSchema(),
  status: z.enum(AiJobStatus),
  result: z.unknown().nullable().meta({ description: '{ entities, relationships } once succeeded' }),
  error: failureView.nullable().meta({ description: '{ code, message } once failed' }),
  provider: z.string().nullable(),
  keySource: keySourceView.nullable(),
  usage: jobUsageView,
  createdAt: z.date(),
  finishedAt: z.date().nullable(),
});
export type AiJobView = z.output<typeof aiJobView>;

export function toAiJobView(job: AiJob, usage?: JobUsage): AiJobView {
  return {
    id: job.id,
    status: job.status,
    result: job.result ?? null,
    error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? '' } : null,
    provider: job.provider,
    keySource: job.keySource as AiJobView['keySource'],
    usage: jobUsageOr(usage),
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  };
}

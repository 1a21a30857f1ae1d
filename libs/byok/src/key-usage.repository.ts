import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '#libs/common';
import { PrismaService } from '#libs/database';
import { AuthenticationError, RateLimitedError } from '#libs/llm';
import type { ResolvedKey } from './key-resolver.service.js';

export type KeyUsageOutcome = 'ok' | 'auth_failed' | 'rate_limited' | 'unavailable' | 'error';

/** How a batch of provider calls ended, as the audit records it. */
export function usageOutcomeOf(error: unknown): KeyUsageOutcome {
  if (error instanceof AuthenticationError) return 'auth_failed';
  if (error instanceof RateLimitedError) return 'rate_limited';
  if (error instanceof AppError && error.code === ErrorCode.ProviderUnavailable) return 'unavailable';
  return 'error';
}

export interface KeyUsageEntry {
  tenantId: string;
  jobId: string;
  jobKind: 'backfill' | 'ai_job';
  key: ResolvedKey;
  calls: number;
  outcome: KeyUsageOutcome;
}

/** Audit of which key (by fingerprint and source, never the key) served which job. */
@Injectable()
export class KeyUsageRepository {
  constructor(private readonly prisma: PrismaService) {}

  async record(entry: KeyUsageEntry): Promise<void> {
    await this.prisma.keyUsage.create({
      data: {
        tenantId: entry.tenantId,
        jobId: entry.jobId,
        jobKind: entry.jobKind,
        provider: entry.key.provider,
        keySource: entry.key.source,
        keyFingerprint: entry.key.fingerprint,
        calls: entry.calls,
        outcome: entry.outcome,
      },
    });
  }

  listForJob(tenantId: string, jobId: string) {
    return this.prisma.keyUsage.findMany({ where: { tenantId, jobId }, orderBy: { createdAt: 'asc' } });
  }
}

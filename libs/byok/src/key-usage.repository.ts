import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '#libs/database';
import type { ResolvedKey } from './key-resolver.service.js';

/** How a batch of provider calls ended, as the audit records it (see usageOutcomeOf in libs/tenant-llm). */
export type KeyUsageOutcome = 'ok' | 'auth_failed' | 'rate_limited' | 'unavailable' | 'error';

/** One batch of provider calls made with one key for one job. */
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

  /** Stores one batch; inside `tx` when given, so it commits (or not) with the work it paid for. */
  async record(entry: KeyUsageEntry, tx?: Tx): Promise<void> {
    await (tx ?? this.prisma).keyUsage.create({
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
}

import { Injectable } from '@nestjs/common';
import { isUuid } from '#libs/common';
import { type AiJob, AiJobStatus, Prisma, PrismaService } from '#libs/database';
import type { UnfinishedJob } from '#libs/queue';

export interface AiJobInput {
  text: string;
  provider?: string;
}

/**
 * Owns ai_jobs: input and result only; no column can hold a key. Every method on a job takes its
 * tenant id first and puts it in the WHERE, but `ownerOf` (the owner's id alone: how the platform
 * scope or the job runtime finds the tenant of a job id) and `unfinished` (the reconciler's ids).
 */
@Injectable()
export class AiJobRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(tenantId: string, type: string, input: AiJobInput): Promise<AiJob> {
    return this.prisma.aiJob.create({ data: { tenantId, type, input: input as unknown as Prisma.InputJsonValue } });
  }

  /** A job of `tenantId`; null for a missing id or another tenant's. */
  findById(tenantId: string, jobId: string): Promise<AiJob | null> {
    if (!isUuid(jobId)) return Promise.resolve(null);
    return this.prisma.aiJob.findUnique({ where: { id: jobId, tenantId } });
  }

  /** The tenant that owns a job, and nothing else. */
  async ownerOf(jobId: string): Promise<string | null> {
    if (!isUuid(jobId)) return null;
    const row = await this.prisma.aiJob.findUnique({ where: { id: jobId }, select: { tenantId: true } });
    return row?.tenantId ?? null;
  }

  async delete(tenantId: string, jobId: string): Promise<void> {
    await this.prisma.aiJob.deleteMany({ where: { id: jobId, tenantId } });
  }

  async markRunning(tenantId: string, jobId: string, key: { provider: string; keySource: string; keyLast4: string | null }): Promise<void> {
    await this.prisma.aiJob.update({ where: { id: jobId, tenantId }, data: { status: AiJobStatus.running, startedAt: new Date(), ...key } });
  }

  async succeed(tenantId: string, jobId: string, result: unknown): Promise<void> {
    await this.prisma.aiJob.update({
      where: { id: jobId, tenantId },
      data: { status: AiJobStatus.succeeded, result: result as Prisma.InputJsonValue, finishedAt: new Date() },
    });
  }

  /** Every AI job that has not ended, for the reconciler. */
  unfinished(): Promise<UnfinishedJob[]> {
    return this.prisma.aiJob.findMany({
      where: { status: { in: [AiJobStatus.queued, AiJobStatus.running] } },
      select: { id: true, updatedAt: true },
    });
  }

  /** Ends a job that has not ended yet (a late call after it succeeded changes nothing); false when it had. */
  async fail(tenantId: string, jobId: string, failure: { code: string; message: string }): Promise<boolean> {
    const { count } = await this.prisma.aiJob.updateMany({
      where: { id: jobId, tenantId, status: { in: [AiJobStatus.queued, AiJobStatus.running] } },
      data: { status: AiJobStatus.failed, errorCode: failure.code, errorMessage: failure.message, finishedAt: new Date() },
    });
    return count > 0;
  }
}

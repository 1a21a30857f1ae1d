import { Injectable } from '@nestjs/common';
import { type AiJob, AiJobStatus, Prisma, PrismaService } from '#libs/database';
import type { UnfinishedJob } from '#libs/queue';

export interface AiJobInput {
  text: string;
  provider?: string;
}

/** Owns ai_jobs: input and result only; no column can hold a key. */
@Injectable()
export class AiJobRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(tenantId: string, type: string, input: AiJobInput): Promise<AiJob> {
    return this.prisma.aiJob.create({ data: { tenantId, type, input: input as unknown as Prisma.InputJsonValue } });
  }

  findById(jobId: string): Promise<AiJob | null> {
    return this.prisma.aiJob.findUnique({ where: { id: jobId } });
  }

  async delete(jobId: string): Promise<void> {
    await this.prisma.aiJob.deleteMany({ where: { id: jobId } });
  }

  async markRunning(jobId: string, key: { provider: string; keySource: string; keyLast4: string | null }): Promise<void> {
    await this.prisma.aiJob.update({ where: { id: jobId }, data: { status: AiJobStatus.running, startedAt: new Date(), ...key } });
  }

  async succeed(jobId: string, result: unknown): Promise<void> {
    await this.prisma.aiJob.update({
      where: { id: jobId },
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
  async fail(jobId: string, failure: { code: string; message: string }): Promise<boolean> {
    const { count } = await this.prisma.aiJob.updateMany({
      where: { id: jobId, status: { in: [AiJobStatus.queued, AiJobStatus.running] } },
      data: { status: AiJobStatus.failed, errorCode: failure.code, errorMessage: failure.message, finishedAt: new Date() },
    });
    return count > 0;
  }
}

import { Injectable } from '@nestjs/common';
import type { Prisma } from './generated/client.js';
import { PrismaService } from './prisma.service.js';

export type Tx = Prisma.TransactionClient;

/** Lets a service group several repositories' writes into one transaction without touching Prisma. */
@Injectable()
export class TransactionService {
  constructor(private readonly prisma: PrismaService) {}

  run<T>(work: (tx: Tx) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    return this.prisma.$transaction(work, { timeout: options.timeoutMs ?? 30_000, maxWait: 10_000 });
  }
}

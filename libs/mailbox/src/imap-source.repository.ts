import { Injectable } from '@nestjs/common';
import type { SealedSecret } from '#libs/byok';
import { type ImapSource, PrismaService, type Tx } from '#libs/database';

/** What a mailbox row holds besides its ids and timestamps (the secret sealed). */
export type ImapSourceRow = Omit<ImapSource, 'workspaceId' | 'tenantId' | 'createdAt' | 'updatedAt' | 'status' | 'statusCode' | 'checkedAt'>;

/** Verdicts a mailbox carries: `unknown` until tested or used, `invalid` after a refused login. */
export type ImapSourceStatus = 'unknown' | 'valid' | 'invalid';

/** imap_sources: one mailbox per workspace; the tenant id first in every query. */
@Injectable()
export class ImapSourceRepository {
  constructor(private readonly prisma: PrismaService) {}

  async find(tenantId: string, workspaceId: string, db: Tx | PrismaService = this.prisma): Promise<ImapSource | null> {
    return db.imapSource.findFirst({ where: { tenantId, workspaceId } });
  }

  /** Creates or replaces the workspace's mailbox; its verdict starts over (`unknown`). */
  async upsert(tenantId: string, workspaceId: string, row: ImapSourceRow, tx: Tx): Promise<ImapSource> {
    const fresh = { ...row, status: 'unknown', statusCode: null, checkedAt: null };
    return tx.imapSource.upsert({
      where: { workspaceId },
      create: { tenantId, workspaceId, ...fresh },
      update: fresh,
    });
  }

  async delete(tenantId: string, workspaceId: string, tx: Tx): Promise<ImapSource | null> {
    const row = await this.find(tenantId, workspaceId, tx);
    if (row) await tx.imapSource.delete({ where: { workspaceId } });
    return row;
  }

  /**
   * Records a verdict for the mailbox whose secret has this fingerprint: a secret replaced since the
   * check keeps its own verdict. Returns whether a row was updated.
   */
  async recordStatus(
    tenantId: string,
    workspaceId: string,
    fingerprint: string,
    status: ImapSourceStatus,
    code: string | null,
    at: Date,
  ): Promise<boolean> {
    const { count } = await this.prisma.imapSource.updateMany({
      where: { tenantId, workspaceId, secretFingerprint: fingerprint },
      data: { status, statusCode: code, checkedAt: at },
    });
    return count > 0;
  }

  /** Up to `limit` mailboxes whose secret is sealed under another version than `activeVersion`, by workspace id after `afterId`. */
  findSecretsToRotate(activeVersion: string, afterId: string | undefined, limit: number): Promise<ImapSource[]> {
    return this.prisma.imapSource.findMany({
      where: { secretKeyVersion: { not: activeVersion }, ...(afterId ? { workspaceId: { gt: afterId } } : {}) },
      orderBy: { workspaceId: 'asc' },
      take: limit,
    });
  }

  /**
   * Swaps the secret's envelope only if it is still `previous` (a PUT meanwhile, with a new secret or
   * the same one sealed afresh, wins). The fingerprint, last4 and verdict stay: the secret is the same.
   */
  async replaceEnvelope(tenantId: string, workspaceId: string, previous: SealedSecret, next: SealedSecret): Promise<boolean> {
    const { count } = await this.prisma.imapSource.updateMany({
      where: { tenantId, workspaceId, secretKeyVersion: previous.keyVersion, secretIv: previous.iv },
      data: { secretCiphertext: next.ciphertext, secretIv: next.iv, secretAuthTag: next.authTag, secretKeyVersion: next.keyVersion },
    });
    return count > 0;
  }
}

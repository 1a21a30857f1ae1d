import { Injectable } from '@nestjs/common';
import { isUuid } from '#libs/common';
import { PrismaService, type WebhookEndpoint } from '#libs/database';
import type { SealedSecret } from '#libs/byok';

/** What an endpoint row holds besides its tenant and the secret's envelope. */
export interface EndpointFields {
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
}

/** The changes a PATCH may make; absent fields stay. */
export type EndpointChanges = Partial<EndpointFields>;

/** The sealed secret as stored, with its last four characters for the masked display. */
export interface StoredSecret {
  sealed: SealedSecret;
  last4: string;
}

/** webhook_endpoints: every method takes the tenant id first and puts it in the WHERE. */
@Injectable()
export class WebhookEndpointRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * `id` is chosen by the caller: the secret's envelope is bound to it before the row exists. Creates
   * it only while the tenant has fewer than `limit` endpoints; concurrent creates of one tenant are
   * serialized on its tenant row (FOR NO KEY UPDATE: rows that merely reference the tenant are not held
   * up), so they cannot jointly pass the limit. Null when the tenant is at its limit.
   */
  create(tenantId: string, id: string, fields: EndpointFields, secret: StoredSecret, limit: number): Promise<WebhookEndpoint | null> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${tenantId}::uuid FOR NO KEY UPDATE`;
      if ((await tx.webhookEndpoint.count({ where: { tenantId } })) >= limit) return null;
      return tx.webhookEndpoint.create({ data: { id, tenantId, ...fields, ...secretColumns(secret) } });
    });
  }

  /** Newest first; a tenant has a handful, so no pagination. */
  list(tenantId: string): Promise<WebhookEndpoint[]> {
    return this.prisma.webhookEndpoint.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }

  /** The tenant's endpoint; null for a missing id or another tenant's. */
  findById(tenantId: string, endpointId: string): Promise<WebhookEndpoint | null> {
    if (!isUuid(endpointId)) return Promise.resolve(null);
    return this.prisma.webhookEndpoint.findUnique({ where: { id: endpointId, tenantId } });
  }

  /** Null when there is no such endpoint in the tenant. */
  async update(tenantId: string, endpointId: string, changes: EndpointChanges): Promise<WebhookEndpoint | null> {
    const rows = await this.prisma.webhookEndpoint.updateManyAndReturn({ where: { id: endpointId, tenantId }, data: changes });
    return rows[0] ?? null;
  }

  /** Null when there is no such endpoint in the tenant. */
  async replaceSecret(tenantId: string, endpointId: string, secret: StoredSecret): Promise<WebhookEndpoint | null> {
    const rows = await this.prisma.webhookEndpoint.updateManyAndReturn({
      where: { id: endpointId, tenantId },
      data: { ...secretColumns(secret), secretRotatedAt: new Date() },
    });
    return rows[0] ?? null;
  }

  /**
   * Master key rotation's scan, across tenants by nature: endpoints whose secret is not yet sealed under
   * `activeVersion`, in id order after `afterId` (ciphertext only; opened by the caller).
   */
  findSecretsToRotate(activeVersion: string, afterId: string | undefined, limit: number): Promise<WebhookEndpoint[]> {
    return this.prisma.webhookEndpoint.findMany({
      where: { secretKeyVersion: { not: activeVersion }, ...(afterId ? { id: { gt: afterId } } : {}) },
      orderBy: { id: 'asc' },
      take: limit,
    });
  }

  /** Swaps the secret's envelope only if it is still `previous` (a rotate-secret meanwhile wins). */
  async replaceEnvelope(tenantId: string, endpointId: string, previous: SealedSecret, next: SealedSecret): Promise<boolean> {
    const { count } = await this.prisma.webhookEndpoint.updateMany({
      where: { id: endpointId, tenantId, secretKeyVersion: previous.keyVersion, secretIv: previous.iv },
      data: { secretCiphertext: next.ciphertext, secretIv: next.iv, secretAuthTag: next.authTag, secretKeyVersion: next.keyVersion },
    });
    return count > 0;
  }

  /** Its deliveries and their log go with it (ON DELETE CASCADE). False when there was none. */
  async delete(tenantId: string, endpointId: string): Promise<boolean> {
    const { count } = await this.prisma.webhookEndpoint.deleteMany({ where: { id: endpointId, tenantId } });
    return count > 0;
  }
}

function secretColumns({ sealed, last4 }: StoredSecret) {
  return {
    secretCiphertext: sealed.ciphertext,
    secretIv: sealed.iv,
    secretAuthTag: sealed.authTag,
    secretKeyVersion: sealed.keyVersion,
    secretLast4: last4,
  };
}

/** The envelope of an endpoint row, as KeyCipher opens it. */
export function sealedSecretOf(endpoint: WebhookEndpoint): SealedSecret {
  return { ciphertext: endpoint.secretCiphertext, iv: endpoint.secretIv, authTag: endpoint.secretAuthTag, keyVersion: endpoint.secretKeyVersion };
}

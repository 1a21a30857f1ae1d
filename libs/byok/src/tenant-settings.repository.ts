import { Injectable } from '@nestjs/common';
import { PrismaService, type TenantSetting, type Tx, ValidationStatus } from '#libs/database';
import type { SealedSecret } from './key-cipher.js';

export interface SecretFields extends SealedSecret {
  fingerprint: string;
  last4: string | null;
}

/**
 * Owns tenant_settings. Every method is scoped by tenant id first, except the platform-wide rotation
 * scan. Writes take an optional `tx` so a caller can commit them with their audit row.
 */
@Injectable()
export class TenantSettingsRepository {
  constructor(private readonly prisma: PrismaService) {}

  find(tenantId: string, settingKey: string, tx?: Tx): Promise<TenantSetting | null> {
    return (tx ?? this.prisma).tenantSetting.findUnique({ where: { tenantId_settingKey: { tenantId, settingKey } } });
  }

  list(tenantId: string): Promise<TenantSetting[]> {
    return this.prisma.tenantSetting.findMany({ where: { tenantId }, orderBy: { settingKey: 'asc' } });
  }

  /** A new key starts unvalidated, whatever the previous one's verdict was. */
  upsertSecret(tenantId: string, settingKey: string, secret: SecretFields, tx?: Tx): Promise<TenantSetting> {
    const fields = {
      isSecret: true,
      value: null,
      ciphertext: secret.ciphertext,
      iv: secret.iv,
      authTag: secret.authTag,
      keyVersion: secret.keyVersion,
      fingerprint: secret.fingerprint,
      last4: secret.last4,
      validationStatus: ValidationStatus.unknown,
      validatedAt: null,
    };
    return (tx ?? this.prisma).tenantSetting.upsert({
      where: { tenantId_settingKey: { tenantId, settingKey } },
      create: { tenantId, settingKey, ...fields },
      update: fields,
    });
  }

  upsertPlain(tenantId: string, settingKey: string, value: string, tx?: Tx): Promise<TenantSetting> {
    return (tx ?? this.prisma).tenantSetting.upsert({
      where: { tenantId_settingKey: { tenantId, settingKey } },
      create: { tenantId, settingKey, isSecret: false, value },
      update: { value },
    });
  }

  /** Forgets the verdict on a stored key (back to `unknown`): what it was checked against changed. */
  async resetValidation(tenantId: string, settingKey: string, tx: Tx): Promise<void> {
    await tx.tenantSetting.updateMany({
      where: { tenantId, settingKey, isSecret: true },
      data: { validationStatus: ValidationStatus.unknown, validatedAt: null },
    });
  }

  /** Deletes the row and returns what it was (null when there was none). */
  async delete(tenantId: string, settingKey: string, tx?: Tx): Promise<TenantSetting | null> {
    const db = tx ?? this.prisma;
    const row = await db.tenantSetting.findUnique({ where: { tenantId_settingKey: { tenantId, settingKey } } });
    if (!row) return null;
    const { count } = await db.tenantSetting.deleteMany({ where: { tenantId, settingKey, id: row.id } });
    return count > 0 ? row : null;
  }

  /** Records a verdict only if the key is still the one that was checked. */
  /**
   * Records a verdict on the key with this fingerprint. With `whenInvalidated`, a verdict of
   * `invalid` on a key that was not invalid yet calls it inside the same transaction (the
   * `key.invalid` announcement commits with the verdict, once per change).
   */
  async setValidation(
    tenantId: string,
    settingKey: string,
    fingerprint: string,
    status: ValidationStatus,
    at: Date,
    whenInvalidated?: (tx: Tx) => Promise<unknown>,
  ): Promise<boolean> {
    const data = { validationStatus: status, validatedAt: at };
    if (!whenInvalidated || status !== ValidationStatus.invalid) {
      const { count } = await this.prisma.tenantSetting.updateMany({ where: { tenantId, settingKey, fingerprint }, data });
      return count > 0;
    }
    return this.prisma.$transaction(async (tx) => {
      const changed = await tx.tenantSetting.updateMany({
        where: { tenantId, settingKey, fingerprint, validationStatus: { not: ValidationStatus.invalid } },
        data,
      });
      if (changed.count > 0) {
        await whenInvalidated(tx);
        return true;
      }
      const { count } = await tx.tenantSetting.updateMany({ where: { tenantId, settingKey, fingerprint }, data });
      return count > 0;
    });
  }

  /** Rotation scan (platform-wide by nature): secret rows not yet under `activeVersion`, in id order. */
  findSecretsToRotate(activeVersion: string, afterId: string | undefined, limit: number): Promise<TenantSetting[]> {
    return this.prisma.tenantSetting.findMany({
      where: { isSecret: true, keyVersion: { not: activeVersion }, ...(afterId ? { id: { gt: afterId } } : {}) },
      orderBy: { id: 'asc' },
      take: limit,
    });
  }

  /**
   * Swaps a row's envelope only if nobody replaced the key meanwhile (same version and IV), so a
   * rotation running beside the live service never overwrites a newer key.
   */
  async replaceEnvelope(tenantId: string, id: string, previous: SealedSecret, next: SealedSecret): Promise<boolean> {
    const { count } = await this.prisma.tenantSetting.updateMany({
      where: { tenantId, id, keyVersion: previous.keyVersion, iv: previous.iv },
      data: { ciphertext: next.ciphertext, iv: next.iv, authTag: next.authTag, keyVersion: next.keyVersion },
    });
    return count > 0;
  }
}

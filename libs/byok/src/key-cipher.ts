import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { KeyDecryptionError } from './byok.errors.js';

/** Prisma's Bytes type: a Uint8Array over a plain (not shared) ArrayBuffer. */
export type Bytes = Uint8Array<ArrayBuffer>;

export interface SealedSecret {
  ciphertext: Bytes;
  iv: Bytes;
  authTag: Bytes;
  keyVersion: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The additional authenticated data of a tenant setting: a row moved to another tenant or key no longer opens. */
export function settingContext(tenantId: string, settingKey: string): string {
  return `${tenantId}:${settingKey}`;
}

/**
 * AES-256-GCM envelope for keys at rest and in flight. The context (bound as AAD together with the
 * master key version) says what the secret belongs to, so a copied ciphertext fails to decrypt.
 */
@Injectable()
export class KeyCipher {
  constructor(private readonly config: AppConfig) {}

  get activeVersion(): string {
    return this.config.activeKeyVersion;
  }

  encrypt(plaintext: string, context: string): SealedSecret {
    const keyVersion = this.config.activeKeyVersion;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey(keyVersion)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(context, keyVersion));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag(), keyVersion };
  }

  /** `what` names the secret in the error (never its content). */
  decrypt(sealed: SealedSecret, context: string, what = 'The stored key'): string {
    const key = this.masterKey(sealed.keyVersion);
    if (!key || sealed.iv.length !== IV_BYTES || sealed.authTag.length !== TAG_BYTES) throw new KeyDecryptionError(what);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(context, sealed.keyVersion));
      decipher.setAuthTag(sealed.authTag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyDecryptionError(what);
    }
  }

  private masterKey(version: string): Buffer | undefined {
    return this.config.masterKeys.get(version);
  }
}

function aad(context: string, keyVersion: string): Buffer {
  return Buffer.from(`${context}:${keyVersion}`, 'utf8');
}

import { Injectable } from '@nestjs/common';
import type { RequestKey, SealedRequestKey } from '#libs/common';
import { KeyCipher } from './key-cipher.js';

/** The job a request key is sealed to: its id and the tenant that owns it (the job row's tenant). */
export interface SealedKeyOwner {
  jobId: string;
  tenantId: string;
}

/**
 * Seals a request key into a job's queue payload and opens it in the worker. The job id and its
 * tenant id are the additional authenticated data, so a sealed key copied into another job, or read
 * for a job whose tenant is not the one that sent the key, does not open.
 */
@Injectable()
export class RequestKeySealer {
  constructor(private readonly cipher: KeyCipher) {}

  seal(requestKey: RequestKey, owner: SealedKeyOwner): SealedRequestKey {
    const sealed = this.cipher.encrypt(requestKey.key, context(owner));
    return {
      provider: requestKey.provider,
      ciphertext: Buffer.from(sealed.ciphertext).toString('base64'),
      iv: Buffer.from(sealed.iv).toString('base64'),
      authTag: Buffer.from(sealed.authTag).toString('base64'),
      keyVersion: sealed.keyVersion,
    };
  }

  /** @throws KeyDecryptionError when the seal was made for another job or tenant, or was tampered with */
  open(sealed: SealedRequestKey, owner: SealedKeyOwner): RequestKey {
    const key = this.cipher.decrypt(
      {
        ciphertext: bytes(sealed.ciphertext),
        iv: bytes(sealed.iv),
        authTag: bytes(sealed.authTag),
        keyVersion: sealed.keyVersion,
      },
      context(owner),
      `The request key of job ${owner.jobId}`,
    );
    return { provider: sealed.provider, key };
  }
}

function context({ jobId, tenantId }: SealedKeyOwner): string {
  return `job:${jobId}:tenant:${tenantId}`;
}

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

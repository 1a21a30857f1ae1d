import { Injectable } from '@nestjs/common';
import type { RequestKey, SealedRequestKey } from '#libs/common';
import { KeyCipher } from './key-cipher.js';

/**
 * Seals a request key into a job's queue payload and opens it in the worker. The job id is the
 * additional authenticated data, so a sealed key copied into another job does not open.
 */
@Injectable()
export class RequestKeySealer {
  constructor(private readonly cipher: KeyCipher) {}

  seal(requestKey: RequestKey, jobId: string): SealedRequestKey {
    const sealed = this.cipher.encrypt(requestKey.key, context(jobId));
    return {
      provider: requestKey.provider,
      ciphertext: Buffer.from(sealed.ciphertext).toString('base64'),
      iv: Buffer.from(sealed.iv).toString('base64'),
      authTag: Buffer.from(sealed.authTag).toString('base64'),
      keyVersion: sealed.keyVersion,
    };
  }

  open(sealed: SealedRequestKey, jobId: string): RequestKey {
    const key = this.cipher.decrypt(
      {
        ciphertext: bytes(sealed.ciphertext),
        iv: bytes(sealed.iv),
        authTag: bytes(sealed.authTag),
        keyVersion: sealed.keyVersion,
      },
      context(jobId),
      `The request key of job ${jobId}`,
    );
    return { provider: sealed.provider, key };
  }
}

function context(jobId: string): string {
  return `job:${jobId}`;
}

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

import { createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';

/**
 * HMAC-SHA256 of a key under a separate secret: it identifies a key (usage rows, caches, "is this
 * the same key?") without being a plain hash that could be brute-forced back to a short key.
 */
@Injectable()
export class KeyFingerprinter {
  constructor(private readonly config: AppConfig) {}

  fingerprint(key: string): string {
    return createHmac('sha256', this.config.fingerprintKey).update(key, 'utf8').digest('hex');
  }
}

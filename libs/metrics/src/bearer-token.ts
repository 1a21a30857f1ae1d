import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';

/**
 * The metrics token (METRICS_TOKEN): it reads metrics and nothing else. Compared by SHA-256 digest in
 * constant time, so the time taken says nothing about the token or its length.
 */
@Injectable()
export class MetricsToken {
  private readonly digest: Buffer | undefined;

  constructor(config: AppConfig) {
    this.digest = config.metrics.token ? sha256(config.metrics.token) : undefined;
  }

  /** Whether a metrics token is configured at all. */
  get configured(): boolean {
    return this.digest !== undefined;
  }

  /** Whether an Authorization header carries the metrics token as a bearer token (RFC 6750 section 2.1). */
  inHeader(header: string | undefined): boolean {
    const match = /^Bearer ([\x21-\x7e]{1,256})$/.exec(header ?? '');
    return match !== null && this.digest !== undefined && timingSafeEqual(sha256(match[1]), this.digest);
  }
}

function sha256(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';

/** The platform admin token (ADMIN_API_TOKEN), compared by SHA-256 digest in constant time. */
@Injectable()
export class AdminToken {
  private readonly digest: Buffer | undefined;

  constructor(config: AppConfig) {
    this.digest = config.adminApiToken ? sha256(config.adminApiToken) : undefined;
  }

  /** Whether `token` is the admin token; digests are compared, so the time taken does not depend on the token's length. */
  matches(token: string): boolean {
    return this.digest !== undefined && timingSafeEqual(sha256(token), this.digest);
  }

  /** Whether an Authorization header carries the admin token as a bearer token (RFC 6750 section 2.1). */
  inHeader(header: string | undefined): boolean {
    const match = /^Bearer ([\x21-\x7e]{1,256})$/.exec(header ?? '');
    return match !== null && this.matches(match[1]);
  }
}

function sha256(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

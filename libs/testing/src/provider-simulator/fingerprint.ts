import { createHash } from 'node:crypto';

/**
 * How the simulator identifies a key in its records: a plain SHA-256, so a test can compute the
 * expected value. (The product's own fingerprints are HMACs; this is a test double's choice.)
 */
export function fingerprintForSimulator(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

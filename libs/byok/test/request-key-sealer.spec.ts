import { describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { KeyCipher, KeyDecryptionError, RequestKeySealer, type SealedKeyOwner } from '#libs/byok';
import { ErrorCode, type RequestKey, type SealedRequestKey } from '#libs/common';
import { AppConfig } from '#libs/config';
import { randomMasterKey, testEnv } from '#libs/testing';

/** A sealer as a process with these master keys builds it (no database is touched). */
function sealerWith(env: Record<string, string> = {}): RequestKeySealer {
  return new RequestKeySealer(new KeyCipher(AppConfig.fromEnv(testEnv('postgresql://127.0.0.1:5432/unused', env))));
}

/** Every 12-character piece of a key: a leak of any distinctive part of it shows up, not only the whole. */
function fragmentsOf(key: string, size = 12): string[] {
  if (key.length <= size) return [key];
  return Array.from({ length: key.length - size + 1 }, (_, i) => key.slice(i, i + size));
}

/** The same base64 field with one bit of its first byte flipped. */
function flipped(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] ^= 0x01;
  return bytes.toString('base64');
}

function openFailure(sealer: RequestKeySealer, sealed: SealedRequestKey, owner: SealedKeyOwner): unknown {
  try {
    sealer.open(sealed, owner);
  } catch (error) {
    return error;
  }
  throw new Error('expected the sealed key not to open');
}

describe(RequestKeySealer.name, () => {
  const v1 = randomMasterKey();
  const sealer = sealerWith({ BYOK_MASTER_KEYS: `v1:${v1}`, BYOK_ACTIVE_KEY_VERSION: 'v1' });
  const requestKey: RequestKey = { provider: 'openai', key: `sk-req-${randomBytes(16).toString('hex')}-oai1` };
  const jobId = randomUUID();
  const tenantId = randomUUID();
  const job: SealedKeyOwner = { jobId, tenantId };

  it('seals a key into base64 fields that carry no part of it, and opens it for the same job id', () => {
    const sealed = sealer.seal(requestKey, job);

    expect(sealed).toEqual({
      provider: 'openai',
      ciphertext: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
      iv: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
      authTag: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
      keyVersion: 'v1',
    });
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(sealed.authTag, 'base64')).toHaveLength(16);
    const text = JSON.stringify(sealed);
    for (const fragment of fragmentsOf(requestKey.key)) expect(text).not.toContain(fragment);
    // base64 of the plaintext would hide it from a text search: the ciphertext is not that either
    expect(Buffer.from(sealed.ciphertext, 'base64').toString('utf8')).not.toContain(requestKey.key.slice(7, 19));

    expect(sealer.open(sealed, job)).toEqual(requestKey);
  });

  it('uses a fresh IV per seal: the same key sealed twice for one job gives two envelopes that both open', () => {
    const first = sealer.seal(requestKey, job);
    const second = sealer.seal(requestKey, job);

    expect(second.iv).not.toBe(first.iv);
    expect(second.ciphertext).not.toBe(first.ciphertext);
    expect(sealer.open(first, job)).toEqual(requestKey);
    expect(sealer.open(second, job)).toEqual(requestKey);
  });

  it("does not open for another job's id, with KEY_DECRYPTION_FAILED and no part of the key in the message", () => {
    const sealed = sealer.seal(requestKey, job);
    const otherJob = randomUUID();

    const error = openFailure(sealer, sealed, { jobId: otherJob, tenantId });

    expect(error).toBeInstanceOf(KeyDecryptionError);
    expect(error).toMatchObject({
      code: ErrorCode.KeyDecryptionFailed,
      message: `The request key of job ${otherJob} cannot be decrypted: it was altered, moved, or sealed with an unknown master key version`,
    });
    for (const fragment of fragmentsOf(requestKey.key)) expect((error as Error).message).not.toContain(fragment);
    // and the envelope still opens for its own job: the refusal is about the id alone
    expect(sealer.open(sealed, job)).toEqual(requestKey);
  });

  it("does not open for the same job read as another tenant's: a key is bound to the tenant that sent it", () => {
    const sealed = sealer.seal(requestKey, job);

    const error = openFailure(sealer, sealed, { jobId, tenantId: randomUUID() });

    expect(error).toBeInstanceOf(KeyDecryptionError);
    expect(error).toMatchObject({ code: ErrorCode.KeyDecryptionFailed });
    for (const fragment of fragmentsOf(requestKey.key)) expect((error as Error).message).not.toContain(fragment);
    expect(sealer.open(sealed, job)).toEqual(requestKey);
  });

  it('does not open for a job id that differs only by case or by one character', () => {
    const sealed = sealer.seal(requestKey, job);
    for (const near of [jobId.toUpperCase(), `${jobId}x`, jobId.slice(0, -1)]) {
      expect(openFailure(sealer, sealed, { jobId: near, tenantId })).toBeInstanceOf(KeyDecryptionError);
    }
  });

  it.each<[string, (sealed: SealedRequestKey) => SealedRequestKey]>([
    ['a flipped ciphertext bit', (s) => ({ ...s, ciphertext: flipped(s.ciphertext) })],
    ['a flipped IV bit', (s) => ({ ...s, iv: flipped(s.iv) })],
    ['a flipped auth tag bit', (s) => ({ ...s, authTag: flipped(s.authTag) })],
    ['a truncated auth tag', (s) => ({ ...s, authTag: Buffer.from(s.authTag, 'base64').subarray(0, 12).toString('base64') })],
    ['an empty ciphertext', (s) => ({ ...s, ciphertext: '' })],
    ['an unknown master key version', (s) => ({ ...s, keyVersion: 'v9' })],
    [
      'a ciphertext with one byte appended',
      (s) => ({ ...s, ciphertext: Buffer.concat([Buffer.from(s.ciphertext, 'base64'), Buffer.from([0])]).toString('base64') }),
    ],
  ])('refuses %s with KEY_DECRYPTION_FAILED', (_, tamper) => {
    const sealed = sealer.seal(requestKey, job);

    const error = openFailure(sealer, tamper(sealed), job);

    expect(error).toBeInstanceOf(KeyDecryptionError);
    expect(error).toMatchObject({ code: ErrorCode.KeyDecryptionFailed });
    // the untouched envelope opens: only the tampering is refused
    expect(sealer.open(sealed, job)).toEqual(requestKey);
  });

  it("refuses an envelope spliced from two jobs' fields, each of which opens for its own job", () => {
    const otherJob = randomUUID();
    const mine = sealer.seal(requestKey, job);
    const theirs = sealer.seal({ provider: 'openai', key: `sk-other-${randomBytes(16).toString('hex')}` }, { jobId: otherJob, tenantId });

    expect(sealer.open(mine, job)).toEqual(requestKey);
    expect(sealer.open(theirs, { jobId: otherJob, tenantId }).provider).toBe('openai');
    for (const spliced of [
      { ...mine, iv: theirs.iv, authTag: theirs.authTag },
      { ...theirs, ciphertext: mine.ciphertext },
    ]) {
      expect(openFailure(sealer, spliced, job)).toBeInstanceOf(KeyDecryptionError);
      expect(openFailure(sealer, spliced, { jobId: otherJob, tenantId })).toBeInstanceOf(KeyDecryptionError);
    }
  });

  it('refuses a key sealed by a deployment with another master key under the same version name', () => {
    const elsewhere = sealerWith({ BYOK_MASTER_KEYS: `v1:${randomMasterKey()}`, BYOK_ACTIVE_KEY_VERSION: 'v1' });

    const error = openFailure(sealer, elsewhere.seal(requestKey, job), job);

    expect(error).toMatchObject({ code: ErrorCode.KeyDecryptionFailed });
  });

  it('opens a key sealed before a rotation, while its master key version is still configured', () => {
    const rotated = sealerWith({ BYOK_MASTER_KEYS: `v1:${v1},v2:${randomMasterKey()}`, BYOK_ACTIVE_KEY_VERSION: 'v2' });
    const sealedBefore = sealer.seal(requestKey, job);
    const sealedAfter = rotated.seal(requestKey, job);

    expect(sealedAfter.keyVersion).toBe('v2');
    expect(rotated.open(sealedBefore, job)).toEqual(requestKey);
    // relabelling a v1 envelope as v2 does not open it: the version is bound to the ciphertext
    expect(openFailure(rotated, { ...sealedBefore, keyVersion: 'v2' }, job)).toBeInstanceOf(KeyDecryptionError);
    // and a process that never had v2 cannot open what was sealed under it
    expect(openFailure(sealer, sealedAfter, job)).toMatchObject({ code: ErrorCode.KeyDecryptionFailed });
  });
});

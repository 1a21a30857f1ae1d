import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '#libs/config';
import { randomMasterKey, testEnv } from '#libs/testing';
import { KeyDecryptionError } from './byok.errors.js';
import { KeyCipher, settingContext } from './key-cipher.js';

const v1 = randomMasterKey();
const v2 = randomMasterKey();
const configWith = (keys: string, active: string) =>
  AppConfig.fromEnv(testEnv('postgresql://unused/db', { BYOK_MASTER_KEYS: keys, BYOK_ACTIVE_KEY_VERSION: active }));

describe(KeyCipher.name, () => {
  const sut = new KeyCipher(configWith(`v1:${v1}`, 'v1'));
  const tenantId = randomUUID();
  const context = settingContext(tenantId, 'OPENAI_API_KEY');
  const key = 'sk-proj-canary-4207';

  it('round-trips a key', () => {
    const sealed = sut.encrypt(key, context);
    expect(Buffer.from(sealed.ciphertext).toString('utf8')).not.toContain('canary');
    expect(sealed.keyVersion).toBe('v1');
    expect(sut.decrypt(sealed, context)).toBe(key);
  });

  it('uses a fresh IV for every write', () => {
    const a = sut.encrypt(key, context);
    const b = sut.encrypt(key, context);
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
  });

  it.each([0, 5, 18])('throws a typed error when ciphertext byte %i is flipped', (index) => {
    const sealed = sut.encrypt(key, context);
    const tampered = Uint8Array.from(sealed.ciphertext);
    tampered[index] ^= 0x01;
    expect(() => sut.decrypt({ ...sealed, ciphertext: tampered }, context)).toThrow(KeyDecryptionError);
  });

  it('throws a typed error for a tampered tag or IV', () => {
    const sealed = sut.encrypt(key, context);
    const tag = Uint8Array.from(sealed.authTag);
    tag[0] ^= 0x80;
    const iv = Uint8Array.from(sealed.iv);
    iv[3] ^= 0x80;
    expect(() => sut.decrypt({ ...sealed, authTag: tag }, context)).toThrow(KeyDecryptionError);
    expect(() => sut.decrypt({ ...sealed, iv }, context)).toThrow(KeyDecryptionError);
  });

  it('refuses a ciphertext moved to another tenant or another setting', () => {
    const sealed = sut.encrypt(key, context);
    expect(() => sut.decrypt(sealed, settingContext(randomUUID(), 'OPENAI_API_KEY'))).toThrow(KeyDecryptionError);
    expect(() => sut.decrypt(sealed, settingContext(tenantId, 'DEEPSEEK_API_KEY'))).toThrow(KeyDecryptionError);
  });

  it('refuses a row whose version label was changed', () => {
    const both = new KeyCipher(configWith(`v1:${v1},v2:${v2}`, 'v1'));
    const sealed = both.encrypt(key, context);
    expect(() => both.decrypt({ ...sealed, keyVersion: 'v2' }, context)).toThrow(KeyDecryptionError);
    expect(() => both.decrypt({ ...sealed, keyVersion: 'v9' }, context)).toThrow(KeyDecryptionError);
  });

  it('reads rows of an older version after the active one changes', () => {
    const sealed = new KeyCipher(configWith(`v1:${v1}`, 'v1')).encrypt(key, context);
    const rotated = new KeyCipher(configWith(`v1:${v1},v2:${v2}`, 'v2'));
    expect(rotated.decrypt(sealed, context)).toBe(key);
    expect(rotated.encrypt(key, context).keyVersion).toBe('v2');
  });

  it('never puts the key in its error message', () => {
    const sealed = sut.encrypt(key, context);
    const error = (() => {
      try {
        sut.decrypt(sealed, settingContext(tenantId, 'GEMINI_API_KEY'));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(KeyDecryptionError);
    expect(`${error?.message} ${error?.stack}`).not.toContain('canary');
  });
});

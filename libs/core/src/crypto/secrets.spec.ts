import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret, randomBase62, sha256Hex } from './secrets';

describe('secrets', () => {
  it('makes base62 tokens of the asked length', () => {
    const t = randomBase62(40);
    expect(t).toMatch(/^[0-9A-Za-z]{40}$/);
    expect(randomBase62(40)).not.toBe(t);
  });

  it('hashes with sha256', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('encrypts with a fresh iv and decrypts only with the same key', () => {
    const key = randomBytes(32);
    const a = encryptSecret('sk-upstream-secret', key);
    const b = encryptSecret('sk-upstream-secret', key);
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-upstream-secret');
    expect(decryptSecret(a, key)).toBe('sk-upstream-secret');
    expect(() => decryptSecret(a, randomBytes(32))).toThrow();
    expect(() =>
      decryptSecret(
        a.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
        key,
      ),
    ).toThrow();
  });
});

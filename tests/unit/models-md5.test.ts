import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Md5, md5Hex, sha256Hex } from '../../src/models/md5.ts';

describe('md5', () => {
  it('matches the RFC 1321 test suite', () => {
    const vectors: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [text, hex] of vectors) expect(md5Hex(new TextEncoder().encode(text))).toBe(hex);
  });

  it('matches node:crypto for every length around the block and padding boundaries, fed in random pieces', () => {
    for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 4096, 100_003]) {
      const bytes = new Uint8Array(randomBytes(n));
      const md5 = new Md5();
      for (let i = 0; i < n; ) {
        const k = Math.min(n - i, 1 + ((i * 31) % 97));
        md5.update(bytes.subarray(i, i + k));
        i += k;
      }
      expect(md5.digestHex()).toBe(createHash('md5').update(bytes).digest('hex'));
    }
  });

  it('sha256Hex matches node:crypto', async () => {
    const bytes = new Uint8Array(randomBytes(5000));
    expect(await sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

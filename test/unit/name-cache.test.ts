/**
 * The name cache returns exactly what Buffer#toString('utf8') would, for hits, misses,
 * collisions and names that share a slot, and never hands out a string for other bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import '../helpers/fuzz-seed.js';
import { decodeName } from '../../codecs/api/index.js';

test('a repeated name comes back equal, from the cache, whatever buffer carries it', () => {
  const a = Buffer.from('xxcom.example.EchoServiceyy');
  const first = decodeName(a, 2, a.length - 2);
  assert.equal(first, 'com.example.EchoService');
  const b = Buffer.from('__com.example.EchoService');
  assert.equal(decodeName(b, 2, b.length), 'com.example.EchoService');
  // The cache copied the bytes: changing the first buffer does not change later answers.
  a.fill(0x41);
  assert.equal(decodeName(b, 2, b.length), 'com.example.EchoService');
  assert.equal(decodeName(a, 2, a.length - 2), 'A'.repeat(23));
});

test('empty, long and multi-byte names decode as UTF-8', () => {
  const long = 'm'.repeat(300);
  assert.equal(decodeName(Buffer.from(long), 0, 300), long);
  assert.equal(decodeName(Buffer.from('abc'), 1, 1), '');
  const accented = Buffer.from('héllo.wörld/Säy😀');
  assert.equal(decodeName(accented, 0, accented.length), 'héllo.wörld/Säy😀');
});

test('any sequence of byte strings decodes as toString would (hits, misses and collisions)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 2000 }), (names) => {
      // Few distinct values so that hits happen, many so that slots collide.
      for (const n of names) {
        const buf = Buffer.concat([Buffer.from([7, 7]), Buffer.from(n), Buffer.from([9])]);
        assert.equal(decodeName(buf, 2, 2 + n.length), Buffer.from(n).toString('utf8'));
      }
    }),
    { numRuns: 50 },
  );
  for (let i = 0; i < 5000; i++) {
    const s = `Svc${i % 700}.method${i % 13}`;
    assert.equal(decodeName(Buffer.from(s), 0, Buffer.byteLength(s)), s);
  }
});

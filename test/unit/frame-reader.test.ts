import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import '../helpers/fuzz-seed.js';
import { FrameReader } from '../../codecs/api/index.js';

test('take returns a zero-copy view when the bytes sit in one chunk', () => {
  const chunk = Buffer.from('abcdefgh');
  const r = new FrameReader();
  r.push(chunk);
  const out = r.take(4);
  assert.equal(out.toString(), 'abcd');
  assert.equal(out.buffer, chunk.buffer, 'same memory');
  assert.equal(r.length, 4);
});

test('take copies exactly once across chunks; peek merges and keeps the bytes', () => {
  const r = new FrameReader();
  r.push(Buffer.from('ab'));
  r.push(Buffer.from('cd'));
  r.push(Buffer.from('ef'));
  assert.equal(r.uint16BE(1), 0x6263);
  assert.equal(r.uint32BE(1), 0x62636465);
  assert.equal(r.peek(5).toString(), 'abcde');
  assert.equal(r.length, 6);
  assert.equal(r.take(3).toString(), 'abc');
  assert.equal(r.byteAt(0), 0x64);
  r.skip(1);
  assert.equal(r.take(2).toString(), 'ef');
  assert.equal(r.length, 0);
});

test('reads past the end throw RangeError', () => {
  const r = new FrameReader();
  r.push(Buffer.from('abc'));
  assert.throws(() => r.take(4), RangeError);
  assert.throws(() => r.byteAt(3), RangeError);
});

test('any chunking and any sequence of takes yields the original bytes (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.array(fc.nat(40), { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (data, cuts, takes) => {
      const buf = Buffer.from(data);
      const r = new FrameReader();
      let off = 0;
      for (const c of cuts) {
        r.push(buf.subarray(off, Math.min(buf.length, off + c)));
        off = Math.min(buf.length, off + c);
      }
      r.push(buf.subarray(off));
      const got: Buffer[] = [];
      let ti = 0;
      while (r.length > 0) {
        const n = Math.min(r.length, takes[ti++ % takes.length]!);
        if (ti % 3 === 0) assert.deepEqual(r.peek(n), buf.subarray(buf.length - r.length, buf.length - r.length + n));
        got.push(r.take(n));
      }
      assert.deepEqual(Buffer.concat(got), buf);
    }),
  );
});

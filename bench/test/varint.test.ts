import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLengthDelimited, readVarint, varintSize, writeVarintWidth } from '../src/protocols/varint.ts';

describe('varints at a fixed width', () => {
  it('read back the value whatever the padding', () => {
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 28, 2 ** 28 + 2 ** 27 - 1, 2 ** 32 - 1]) {
      for (let width = varintSize(v); width <= 6; width++) {
        const buf = Buffer.alloc(width + 1, 0xee);
        assert.equal(writeVarintWidth(buf, 0, v, width), width);
        assert.deepEqual(readVarint(buf, 0, buf.length), [v, width]);
      }
    }
  });

  it('refuse a width too small for the value', () => {
    assert.throws(() => writeVarintWidth(Buffer.alloc(4), 0, 128, 1), /does not fit/);
  });

  it('bench ids (2^28 .. 2^28 + 2^27) all take five bytes', () => {
    assert.equal(varintSize(2 ** 28), 5);
    assert.equal(varintSize(2 ** 28 + 2 ** 27 - 1), 5);
  });

  it('size a length-delimited field to every total, canonical where possible', () => {
    for (let total = 2; total < 20_000; total++) {
      const fit = fitLengthDelimited(total, 1);
      assert.ok(fit !== null);
      assert.equal(1 + fit.width + fit.length, total);
      assert.ok(fit.width - varintSize(fit.length) <= 1, `at most one padding byte at ${total}`);
    }
    assert.equal(fitLengthDelimited(1, 1), null);
  });
});

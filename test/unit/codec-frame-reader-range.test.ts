/**
 * FrameReader.peekRange, the view a resuming codec scans: the same bytes as the
 * concatenation, for any chunking and any ascending (or restarting) sequence of ranges, and
 * unaffected by consuming bytes in between. fast-check; the seed prints on failure and
 * MELTEMI_FUZZ_SEED replays it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameReader } from '../../codecs/api/index.js';
import { fcParams } from '../helpers/fuzz-seed.js';

describe('FrameReader.peekRange', () => {
  it('returns the bytes of the concatenation for any chunking and range sequence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(3)), { minLength: 1, maxLength: 20 }),
        (chunks, ranges) => {
          const reader = new FrameReader();
          let all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
          for (const c of chunks) reader.push(Buffer.from(c));
          for (const [a, b, takeSome] of ranges) {
            if (takeSome === 0 && reader.length > 0) {
              // Consuming bytes moves the read position: ranges are relative to it.
              const n = a % (reader.length + 1);
              reader.skip(n);
              all = all.subarray(n);
              continue;
            }
            const from = all.length === 0 ? 0 : a % (all.length + 1);
            const to = from + (all.length - from === 0 ? 0 : b % (all.length - from + 1));
            assert.deepEqual(reader.peekRange(from, to), all.subarray(from, to));
          }
          assert.equal(reader.length, all.length);
        },
      ),
      fcParams('FrameReader.peekRange'),
    );
  });

  it('refuses a range outside the unread bytes', () => {
    const reader = new FrameReader();
    reader.push(Buffer.from('abcd'));
    assert.throws(() => reader.peekRange(2, 5), RangeError);
    assert.throws(() => reader.peekRange(3, 2), RangeError);
    assert.equal(reader.peekRange(4, 4).length, 0);
  });
});

/**
 * The framing helpers of `meltemi/codec`: fixed-header length, varint prefix, delimiter,
 * each across every split of a stream, with errors returned as values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CodecError, DelimitedFramer, FixedHeaderFramer, FrameReader, VarintPrefixedFramer, apiVersionProblem, encodeVarint } from '../../codecs/api/index.js';
import type { Framer } from '../../codecs/api/index.js';

/** Feeds `chunks` and collects every frame until the framer wants more or errs. */
function frames(framer: Framer, chunks: Buffer[]): { frames: Buffer[]; error: CodecError | undefined; left: number } {
  const reader = new FrameReader();
  const out: Buffer[] = [];
  for (const c of chunks) {
    reader.push(c);
    for (;;) {
      const r = framer.next(reader);
      if (r === undefined) break;
      if (r instanceof CodecError) return { frames: out, error: r, left: reader.length };
      out.push(Buffer.from(r));
    }
  }
  return { frames: out, error: undefined, left: reader.length };
}

/** Every two-chunk split of `stream` yields exactly `expected`. */
function assertEverySplit(make: () => Framer, stream: Buffer, expected: Buffer[]): void {
  for (let p = 0; p <= stream.length; p++) {
    const r = frames(make(), [stream.subarray(0, p), stream.subarray(p)]);
    assert.equal(r.error, undefined, `split at ${p}: ${r.error?.message}`);
    assert.deepEqual(r.frames, expected, `split at ${p}`);
    assert.equal(r.left, 0);
  }
}

function header(len: number, body: string): Buffer {
  const b = Buffer.from(body);
  const h = Buffer.from([0xca, 0xfe, 0, 0, 0, 0, 0, 0]);
  h.writeUInt32BE(len, 4);
  return Buffer.concat([h, b]);
}

describe('FixedHeaderFramer', () => {
  const layout = { magic: Buffer.from([0xca, 0xfe]), headerSize: 8, lengthOffset: 4, lengthSize: 4 as const, lengthCounts: 'after-header' as const };

  test('cuts pipelined frames at every split point', () => {
    const a = header(3, 'abc');
    const b = header(0, '');
    const c = header(5, 'hello');
    assertEverySplit(() => new FixedHeaderFramer(layout, 1024), Buffer.concat([a, b, c]), [a, b, c]);
  });

  test('counts the length as the whole frame, or what follows the length field', () => {
    const whole = Buffer.from([0x10, 0, 5, 1, 2]);
    assert.deepEqual(frames(new FixedHeaderFramer({ headerSize: 3, lengthOffset: 1, lengthSize: 2, lengthCounts: 'frame' }, 64), [whole]).frames, [whole]);
    const afterLength = Buffer.from([0x10, 2, 0xaa, 0xbb]);
    assert.deepEqual(frames(new FixedHeaderFramer({ headerSize: 2, lengthOffset: 1, lengthSize: 1, lengthCounts: 'after-length' }, 64), [afterLength]).frames, [afterLength]);
    const le = Buffer.from([3, 0, 9, 9, 9]);
    assert.deepEqual(frames(new FixedHeaderFramer({ headerSize: 2, lengthOffset: 0, lengthSize: 2, littleEndian: true, lengthCounts: 'after-header' }, 64), [le]).frames, [le]);
  });

  test('rejects a bad magic at its first byte, too-large and too-short frames', () => {
    const bad = frames(new FixedHeaderFramer(layout, 1024), [Buffer.from([0xca, 0x00])]);
    assert.equal(bad.error?.code, 'MELTEMI_ERR_BAD_MAGIC');
    const big = frames(new FixedHeaderFramer(layout, 16), [header(100, '')]);
    assert.equal(big.error?.code, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    const short = frames(new FixedHeaderFramer({ headerSize: 4, lengthOffset: 0, lengthSize: 1, lengthCounts: 'frame' }, 64), [Buffer.from([2, 0, 0, 0])]);
    assert.match(short.error?.message ?? '', /shorter than the 4-byte header/);
  });

  test('refuses a layout whose length field lies outside the header', () => {
    assert.throws(() => new FixedHeaderFramer({ headerSize: 4, lengthOffset: 2, lengthSize: 4, lengthCounts: 'frame' }, 64), /outside the 4-byte header/);
  });
});

describe('VarintPrefixedFramer', () => {
  test('cuts frames with 1- and 2-byte prefixes at every split point', () => {
    const small = Buffer.concat([encodeVarint(3), Buffer.from('abc')]);
    const large = Buffer.concat([encodeVarint(200), Buffer.alloc(200, 7)]);
    assertEverySplit(() => new VarintPrefixedFramer(1024), Buffer.concat([small, large, small]), [small, large, small]);
    assert.equal(VarintPrefixedFramer.bodyOffset(large), 2);
  });

  test('rejects an overlong varint and a frame over the limit', () => {
    assert.match(frames(new VarintPrefixedFramer(1024), [Buffer.alloc(6, 0xff)]).error?.message ?? '', /longer than 5 bytes/);
    assert.equal(frames(new VarintPrefixedFramer(100), [encodeVarint(500)]).error?.code, 'MELTEMI_ERR_FRAME_TOO_LARGE');
  });
});

describe('DelimitedFramer', () => {
  test('cuts CRLF-terminated frames at every split point, the delimiter included', () => {
    const stream = Buffer.from('get a\r\nset b 1\r\n\r\n');
    assertEverySplit(() => new DelimitedFramer('\r\n', 64), stream, [Buffer.from('get a\r\n'), Buffer.from('set b 1\r\n'), Buffer.from('\r\n')]);
  });

  test('a frame that never ends is an error once it passes the limit', () => {
    const r = frames(new DelimitedFramer('\n', 8), [Buffer.from('0123456789')]);
    assert.equal(r.error?.code, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    assert.throws(() => new DelimitedFramer('', 8), /must not be empty/);
  });
});

describe('apiVersionProblem', () => {
  const range = { min: 1, max: 1 };
  test('accepts the supported version and explains the others', () => {
    assert.equal(apiVersionProblem(1, range, 'codec API'), undefined);
    assert.match(apiVersionProblem(2, range, 'codec API')!, /version 2, newer than this Meltemi supports \(1\): upgrade Meltemi/);
    assert.match(apiVersionProblem(0, range, 'codec API')!, /no longer supports/);
    assert.match(apiVersionProblem(undefined, range, 'codec API')!, /apiVersion is missing/);
    assert.match(apiVersionProblem('1', range, 'codec API')!, /apiVersion is "1"/);
  });
});

/**
 * Unframed Thrift is delimited by walking the message (issue 13, defect 3). A message that
 * arrives in many small chunks must cost work linear in its size: the scanner resumes where
 * it stopped instead of starting over on every chunk. Work is counted (bytes handed to the
 * scanner), not timed; timing belongs in bench/.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { thriftCodecFactory } from '../../codecs/thrift/index.js';
import { unframedScanWork } from '../../codecs/thrift/scan-work.js';
import { decodeChunks, testContext } from '../peers/codec-harness.js';

const MiB = 1024 * 1024;

/** A binary CALL `put(list<string> items)` of about `size` bytes, items of `item` bytes. */
function binaryCall(size: number, item: number): Buffer {
  const n = Math.ceil(size / (item + 4));
  const head = Buffer.from('800100010000000370757400000007' + '0f0001' + '0b', 'hex');
  const count = Buffer.alloc(4);
  count.writeInt32BE(n);
  const one = Buffer.alloc(4 + item, 0x61);
  one.writeInt32BE(item);
  return Buffer.concat([head, count, ...Array.from({ length: n }, () => one), Buffer.from([0])]);
}

/** The same call in the compact protocol. */
function compactCall(size: number, item: number): Buffer {
  const n = Math.ceil(size / (item + 1));
  const sizeVarint: number[] = [];
  for (let v = n; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      sizeVarint.push(v);
      break;
    }
    sizeVarint.push((v & 0x7f) | 0x80);
  }
  const head = Buffer.concat([Buffer.from('8221070370757419f8', 'hex'), Buffer.from(sizeVarint)]);
  const one = Buffer.concat([Buffer.from([item]), Buffer.alloc(item, 0x61)]);
  return Buffer.concat([head, ...Array.from({ length: n }, () => one), Buffer.from([0])]);
}

/** A binary CALL whose only argument is one string of about `size` bytes. */
function bigStringCall(size: number): Buffer {
  const head = Buffer.from('800100010000000370757400000007' + '0b0001', 'hex');
  const len = Buffer.alloc(4);
  len.writeInt32BE(size);
  return Buffer.concat([head, len, Buffer.alloc(size, 0x62), Buffer.from([0])]);
}

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

/** Bytes handed to the scanner while decoding `msg` in `chunkSize` pieces. */
function scanWork(msg: Buffer, chunkSize: number, protocol: 'binary' | 'compact'): number {
  const codec = thriftCodecFactory.createServerCodec(testContext({ transport: 'unframed', protocol }, 64 * MiB));
  const before = unframedScanWork.bytes;
  const run = decodeChunks(codec, chunks(msg, chunkSize));
  assert.equal(run.error, undefined, run.error?.message);
  assert.equal(run.messages.length, 1);
  assert.equal(run.messages[0]!.frame.length, msg.length);
  assert.equal(run.leftover, 0);
  return unframedScanWork.bytes - before;
}

describe('thrift unframed: scanning is linear in the message size', () => {
  for (const [name, build, protocol] of [
    ['binary list of 16-byte strings', (s: number) => binaryCall(s, 16), 'binary'],
    ['compact list of 16-byte strings', (s: number) => compactCall(s, 16), 'compact'],
    ['binary single big string', (s: number) => bigStringCall(s), 'binary'],
  ] as const) {
    it(`${name}: 4 MiB in 1 KiB chunks costs at most 3x the bytes of the message`, () => {
      const msg = build(4 * MiB);
      const whole = scanWork(msg, msg.length, protocol);
      const chunked = scanWork(msg, 1024, protocol);
      assert.ok(whole <= 2 * msg.length, `one write: ${whole} bytes scanned for ${msg.length}`);
      assert.ok(chunked <= 3 * msg.length, `1 KiB chunks: ${chunked} bytes scanned for ${msg.length} (${(chunked / msg.length).toFixed(1)}x)`);
    });
  }

  it('doubling the size doubles the work (not quadruples), in 512-byte chunks', () => {
    const a = scanWork(binaryCall(MiB, 8), 512, 'binary');
    const b = scanWork(binaryCall(2 * MiB, 8), 512, 'binary');
    assert.ok(b / a < 2.5, `1 MiB: ${a}, 2 MiB: ${b} (ratio ${(b / a).toFixed(2)})`);
  });

  it('pipelined small messages after a chunked big one still decode one by one', () => {
    const big = binaryCall(256 * 1024, 16);
    const small = binaryCall(100, 4);
    const stream = Buffer.concat([big, small, small, small]);
    const codec = thriftCodecFactory.createServerCodec(testContext({ transport: 'unframed', protocol: 'binary' }));
    const run = decodeChunks(codec, chunks(stream, 700));
    assert.equal(run.error, undefined, run.error?.message);
    assert.deepEqual(run.messages.map((m) => m.frame.length), [big.length, small.length, small.length, small.length]);
  });
});

/**
 * Property tests (fast-check): messages with random nested structs written by npm thrift's
 * own protocol writers must be delimited exactly (unframed needs the skipper), whatever the
 * chunking; random and corrupted input must never throw out of decode nor loop forever.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import '../helpers/fuzz-seed.js';
import { CodecError, FrameReader, type Message } from '../../codecs/api/index.js';
import type { ThriftCodec } from '../../codecs/thrift/codec.js';
import { clientCodec, npmThrift, serverCodec, type NpmProtocol } from './thrift-fixtures.js';

const T = npmThrift.Thrift.Type as Record<'BOOL' | 'BYTE' | 'I16' | 'I32' | 'I64' | 'DOUBLE' | 'STRING' | 'STRUCT' | 'MAP' | 'SET' | 'LIST', number>;
const SCALARS = [T.BOOL, T.BYTE, T.I16, T.I32, T.I64, T.DOUBLE, T.STRING];
const ALL = [...SCALARS, T.STRUCT, T.MAP, T.SET, T.LIST];

/** A small deterministic PRNG so one integer seed describes a whole random message. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
  };
}

function writeValue(p: NpmProtocol, r: (n: number) => number, type: number, depth: number): void {
  switch (type) {
    case T.BOOL:
      return p.writeBool(r(2) === 1);
    case T.BYTE:
      return p.writeByte(r(256) - 128);
    case T.I16:
      return p.writeI16(r(65536) - 32768);
    case T.I32:
      return p.writeI32(r(2 ** 31) * (r(2) === 1 ? -1 : 1));
    case T.I64:
      return p.writeI64(r(2 ** 31) * r(2 ** 20) * (r(2) === 1 ? -1 : 1));
    case T.DOUBLE:
      return p.writeDouble(r(1e9) / 7);
    case T.STRING:
      return p.writeString('ü'.repeat(r(3)) + 'x'.repeat(r(r(2) === 1 ? 300 : 5)));
    case T.STRUCT:
      return writeStruct(p, r, depth - 1);
    case T.MAP: {
      const k = pick(r, depth);
      const v = pick(r, depth);
      const n = r(4);
      p.writeMapBegin(k, v, n);
      for (let i = 0; i < n; i++) {
        writeValue(p, r, k, depth - 1);
        writeValue(p, r, v, depth - 1);
      }
      return p.writeMapEnd();
    }
    default: {
      const e = pick(r, depth);
      const n = r(r(2) === 1 ? 20 : 4);
      if (type === T.SET) p.writeSetBegin(e, n);
      else p.writeListBegin(e, n);
      for (let i = 0; i < n; i++) writeValue(p, r, e, depth - 1);
      if (type === T.SET) p.writeSetEnd();
      else p.writeListEnd();
    }
  }
}

function pick(r: (n: number) => number, depth: number): number {
  return depth > 1 ? ALL[r(ALL.length)]! : SCALARS[r(SCALARS.length)]!;
}

function writeStruct(p: NpmProtocol, r: (n: number) => number, depth: number): void {
  p.writeStructBegin('S');
  const n = r(6);
  for (let i = 0; i < n; i++) {
    const type = pick(r, depth);
    p.writeFieldBegin('f', type, r(2) === 1 ? 1 + r(15) : r(32000));
    writeValue(p, r, type, depth);
    p.writeFieldEnd();
  }
  p.writeFieldStop();
  p.writeStructEnd();
}

type Variant = 'framed-binary' | 'unframed-binary' | 'unframed-binary-nonstrict' | 'framed-compact' | 'unframed-compact' | 'header-binary' | 'header-compact';
const VARIANTS: Variant[] = ['framed-binary', 'unframed-binary', 'unframed-binary-nonstrict', 'framed-compact', 'unframed-compact', 'header-binary', 'header-compact'];

/** One message in `variant`, with a random args struct written by npm thrift. */
function randomMessage(variant: Variant, seed: number, seqid: number, type: number): Buffer {
  const r = rng(seed);
  let out: Buffer | undefined;
  const trans = new npmThrift.TBufferedTransport(undefined, (msg) => {
    out = msg;
  });
  const compact = variant.endsWith('compact');
  const p = compact
    ? new npmThrift.TCompactProtocol(trans)
    : new npmThrift.TBinaryProtocol(trans, false, !variant.endsWith('nonstrict'));
  p.writeMessageBegin(r(2) === 1 ? 'Svc:method' + r(100) : 'm' + r(1000), type, seqid);
  writeStruct(p, r, 1 + r(6));
  p.writeMessageEnd();
  trans.flush();
  const body = out!;
  if (variant.startsWith('unframed')) return body;
  if (variant.startsWith('framed')) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
  }
  // THeader with one info header, padded to a word.
  const hdr = Buffer.from([compact ? 2 : 0, 0, 1, 1, 1, 0x6b, 1, 0x76, 0]);
  const padded = Buffer.concat([hdr, Buffer.alloc((4 - (hdr.length % 4)) % 4)]);
  const fixed = Buffer.alloc(14);
  fixed.writeUInt32BE(10 + padded.length + body.length, 0);
  fixed.writeUInt16BE(0x0fff, 4);
  fixed.writeUInt32BE(seqid >>> 0, 8);
  fixed.writeUInt16BE(padded.length / 4, 12);
  return Buffer.concat([fixed, padded, body]);
}

/** Cuts `data` at the given fractions. */
function chunk(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(data.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  out.push(data.subarray(prev));
  return out;
}

/**
 * Runs the decode loop the way the proxy does; returns the messages and the first error.
 * Every returned message must have consumed bytes, so the loop is bounded by the input.
 */
function run(codec: ThriftCodec, chunks: Buffer[]): { msgs: Message[]; error: CodecError | undefined } {
  const reader = new FrameReader();
  const msgs: Message[] = [];
  let total = 0;
  for (const c of chunks) {
    reader.push(c);
    total += c.length;
    for (;;) {
      const before = reader.length;
      const r = codec.decode(reader);
      if (r === undefined) break;
      if (r instanceof CodecError) return { msgs, error: r };
      assert.ok(reader.length < before, 'a decoded message consumed bytes');
      msgs.push(r);
      assert.ok(msgs.length <= total, 'no more messages than bytes');
    }
  }
  return { msgs, error: undefined };
}

const variantArb = fc.constantFrom(...VARIANTS);
const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });

describe('thrift property tests', () => {
  it('random messages written by npm thrift are delimited exactly, whatever the chunking', () => {
    fc.assert(
      fc.property(
        variantArb,
        fc.array(fc.tuple(fc.integer(), fc.integer({ min: 0, max: 0x7fffffff }), fc.constantFrom(1, 4)), { minLength: 1, maxLength: 5 }),
        cutsArb,
        (variant, specs, cuts) => {
          const frames = specs.map(([seed, seqid, type]) => randomMessage(variant, seed, seqid, type));
          const { msgs, error } = run(serverCodec(), chunk(Buffer.concat(frames), cuts));
          assert.equal(error, undefined, error?.message);
          assert.equal(msgs.length, frames.length);
          msgs.forEach((m, i) => {
            assert.deepEqual(m.frame, frames[i]);
            assert.equal(m.requestId, specs[i]![1]);
          });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('seqid rewrite then restore gives back the original bytes', () => {
    fc.assert(
      fc.property(variantArb, fc.integer(), fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 1, max: 0x7fffffff }), (variant, seed, seqid, id) => {
        const frame = randomMessage(variant, seed, seqid, 1);
        const codec = serverCodec();
        const { msgs } = run(codec, [Buffer.from(frame)]);
        const m = msgs[0]!;
        codec.setRequestId(m, id);
        const again = run(serverCodec(), [Buffer.from(m.frame)]).msgs;
        assert.equal(again.length, 1);
        assert.equal(again[0]!.requestId, id);
        assert.equal(again[0]!.operationName, m.operationName);
        codec.setRequestId(m, seqid);
        assert.deepEqual(m.frame, frame);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw out of decode', () => {
    const opts = fc.constantFrom<Record<string, unknown>>({}, { transport: 'framed' }, { transport: 'unframed' }, { transport: 'header' }, { protocol: 'compact' }, { transport: 'unframed', protocol: 'compact' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cutsArb, opts, fc.boolean(), (bytes, cuts, o, server) => {
        run(server ? serverCodec(o, 4096) : clientCodec(o, 4096), chunk(Buffer.from(bytes), cuts));
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes after a valid prefix (signature kept) never throw', () => {
    fc.assert(
      fc.property(variantArb, fc.integer(), fc.uint8Array({ maxLength: 200 }), cutsArb, (variant, seed, tail, cuts) => {
        const valid = randomMessage(variant, seed, 1, 1);
        // keep the first bytes that select the variant, randomise the rest
        const keep = variant.startsWith('unframed') ? 2 : variant.startsWith('header') ? 14 : 6;
        const data = Buffer.concat([valid.subarray(0, keep), Buffer.from(tail)]);
        run(serverCodec({}, 8192), chunk(data, cuts));
      }),
      { numRuns: 2000 },
    );
  });

  it('corrupted valid streams (flips, truncation, insertion) never throw', () => {
    fc.assert(
      fc.property(
        variantArb,
        fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        cutsArb,
        (variant, seeds, flips, cutAt, cuts) => {
          const data = Buffer.concat(seeds.map((s, i) => randomMessage(variant, s, i, 1)));
          for (const [pos, val] of flips) data[pos % data.length] = val;
          const truncated = data.subarray(0, data.length - (cutAt % Math.max(1, data.length)));
          const inserted = Buffer.concat([truncated.subarray(0, 5), Buffer.from([0xff, 0x7f, 0x00]), truncated.subarray(5)]);
          for (const d of [data, truncated, inserted]) {
            const s = run(serverCodec({}, 1 << 16), chunk(d, cuts));
            const c = run(clientCodec({}, 1 << 16), chunk(d, cuts));
            // After a decoded prefix, the rest is either incomplete or refused; frames are disjoint.
            for (const r of [s, c]) {
              const got = r.msgs.reduce((n, m) => n + m.frame.length, 0);
              assert.ok(got <= d.length);
            }
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});

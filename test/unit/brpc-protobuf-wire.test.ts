/**
 * The schema-less protobuf helpers (codecs/api/protobuf-wire.ts) against protobufjs as the
 * reference encoder/decoder. (Named brpc-* so the codec test glob runs it; tRPC uses them too.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import '../helpers/fuzz-seed.js';
import protobuf from 'protobufjs';
import {
  ProtoReader,
  ProtobufWireError,
  WireType,
  decodeMapEntry,
  encodeLengthDelimitedField,
  encodeVarint,
  encodeVarintField,
  findField,
  newWireField,
  patchVarintField,
  readLengthDelimited,
  readUint64At,
  varint32At,
  replaceField,
  setVarintField,
  upsertMapEntries,
  varintSize,
  zigzagDecode32,
  zigzagDecode64,
  zigzagEncode32,
  zigzagEncode64,
} from '../../codecs/api/index.js';

const root = protobuf.parse(
  `syntax = "proto3";
   message All { uint64 u64 = 1; int64 i64 = 2; sint32 s32 = 3; sint64 s64 = 4; fixed32 f32 = 5; fixed64 f64 = 6;
                 sfixed32 sf32 = 7; sfixed64 sf64 = 8; bool b = 9; string s = 10; bytes by = 11; int32 i32 = 12;
                 map<string, string> m = 13; }`,
  { keepCase: true },
).root;
const All = root.lookupType('All');

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

describe('protobuf-wire: varints', () => {
  it('encodes and decodes any uint64 like protobufjs', () => {
    fc.assert(
      fc.property(u64, (v) => {
        const ours = encodeVarint(v);
        const theirs = Buffer.from(protobuf.Writer.create().uint64(v.toString()).finish());
        assert.deepEqual(ours, theirs);
        assert.equal(varintSize(v), ours.length);
        const back = readUint64At(ours, 0);
        assert.equal(BigInt(back), v);
        assert.equal(typeof back === 'number', v <= BigInt(Number.MAX_SAFE_INTEGER));
        if (v <= BigInt(Number.MAX_SAFE_INTEGER)) assert.deepEqual(encodeVarint(Number(v)), ours);
      }),
      { numRuns: 500 },
    );
  });

  it('varint32At and ProtoReader.varint32 give the low 32 bits of any uint64, as protobufjs', () => {
    fc.assert(
      fc.property(u64, fc.nat(3), (v, pad) => {
        const bytes = Buffer.concat([Buffer.alloc(pad, 0xaa), encodeVarint(v)]);
        const low = Number(v & 0xffffffffn);
        assert.equal(varint32At(bytes, pad, bytes.length), low);
        const r = new ProtoReader(bytes, pad);
        assert.equal(r.varint32(), low);
        assert.equal(r.pos, bytes.length);
        assert.equal(protobuf.Reader.create(bytes.subarray(pad)).uint32(), low);
      }),
      { numRuns: 500 },
    );
    assert.throws(() => varint32At(Buffer.from([0x80, 0x80]), 0, 2), ProtobufWireError);
    assert.throws(() => varint32At(Buffer.from([0x05]), 0, 0), ProtobufWireError);
    assert.throws(() => varint32At(Buffer.alloc(11, 0xff), 0, 11), ProtobufWireError);
  });

  it('negative numbers are 10-byte two complement', () => {
    assert.deepEqual(encodeVarint(-1), Buffer.from('ffffffffffffffffff01', 'hex'));
    assert.equal(new ProtoReader(encodeVarint(-2)).int32(), -2);
    assert.equal(new ProtoReader(encodeVarint(-5n)).int64(), -5n);
  });

  it('zigzag round-trips', () => {
    fc.assert(fc.property(fc.integer(), (n) => assert.equal(zigzagDecode32(zigzagEncode32(n | 0)), n | 0)));
    fc.assert(fc.property(i64, (n) => assert.equal(zigzagDecode64(zigzagEncode64(n)), n)));
    assert.equal(zigzagEncode32(-1), 1);
    assert.equal(zigzagEncode64(-1n), 1n);
  });

  it('rejects truncated and over-long varints', () => {
    assert.throws(() => readUint64At(Buffer.from([0x80, 0x80]), 0), ProtobufWireError);
    assert.throws(() => readUint64At(Buffer.alloc(11, 0xff), 0), ProtobufWireError);
    assert.throws(() => new ProtoReader(Buffer.alloc(11, 0xff)).varint32(), ProtobufWireError);
  });
});

describe('protobuf-wire: reading a message written by protobufjs', () => {
  it('reads every scalar type and iterates fields', () => {
    fc.assert(
      fc.property(
        fc.record({
          u64: u64,
          i64: i64,
          s32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          s64: i64,
          f32: fc.nat(0xffff_ffff),
          f64: u64,
          sf32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          sf64: i64,
          s: fc.string({ minLength: 1, maxLength: 20 }),
          i32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        }),
        (v) => {
          const bytes = Buffer.from(
            All.encode(
              All.fromObject({ ...v, u64: v.u64.toString(), i64: v.i64.toString(), s64: v.s64.toString(), f64: v.f64.toString(), sf64: v.sf64.toString(), b: true, by: Buffer.from('xy') }),
            ).finish(),
          );
          const r = new ProtoReader(bytes);
          const f = newWireField();
          const seen = new Map<number, unknown>();
          while (!r.done) {
            const start = r.pos;
            const tag = r.varint32();
            const n = tag >>> 3;
            switch (n) {
              case 1: seen.set(n, BigInt(r.uint64())); break;
              case 2: seen.set(n, r.int64()); break;
              case 3: seen.set(n, r.sint32()); break;
              case 4: seen.set(n, r.sint64()); break;
              case 5: seen.set(n, r.fixed32()); break;
              case 6: seen.set(n, r.fixed64()); break;
              case 7: seen.set(n, r.sfixed32()); break;
              case 8: seen.set(n, r.sfixed64()); break;
              case 9: seen.set(n, r.bool()); break;
              case 10: seen.set(n, r.string()); break;
              case 11: seen.set(n, r.bytes().toString()); break;
              case 12: seen.set(n, r.int32()); break;
              default: r.skipValue(tag & 7, n);
            }
            // nextField from the same offset lands on the same end.
            const again = new ProtoReader(bytes, start);
            assert.ok(again.nextField(f));
            assert.equal(f.end, r.pos);
          }
          const expect = (n: number, value: unknown, zero: unknown): void => assert.equal(seen.get(n) ?? zero, value);
          expect(1, v.u64, 0n);
          expect(2, v.i64, 0n);
          expect(3, v.s32, 0);
          expect(4, v.s64, 0n);
          expect(5, v.f32, 0);
          expect(6, v.f64, 0n);
          expect(7, v.sf32, 0);
          expect(8, v.sf64, 0n);
          expect(9, true, false);
          expect(10, v.s, '');
          expect(11, 'xy', '');
          expect(12, v.i32, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('skips groups and refuses bad wire types, zero field numbers and overruns', () => {
    const group = Buffer.from('0b0801100213' + '0c' + '1801', 'hex'); // group 1 {1:1, 2:2, group 2 {} } then field 3
    const fixedGroup = Buffer.from('0b08011002' + '1314' + '0c' + '1801', 'hex');
    const r = new ProtoReader(fixedGroup);
    const f = newWireField();
    assert.ok(r.nextField(f));
    assert.equal(f.wireType, WireType.StartGroup);
    assert.ok(r.nextField(f));
    assert.equal(f.fieldNumber, 3);
    assert.throws(() => { const x = new ProtoReader(group); while (x.nextField(f)); }, ProtobufWireError);
    assert.throws(() => new ProtoReader(Buffer.from('0f', 'hex')).nextField(f), ProtobufWireError);
    assert.throws(() => new ProtoReader(Buffer.from('0001', 'hex')).nextField(f), ProtobufWireError);
    assert.throws(() => new ProtoReader(Buffer.from('0a05ab', 'hex')).nextField(f), ProtobufWireError);
    assert.throws(() => new ProtoReader(Buffer.from('0d0102', 'hex')).nextField(f), ProtobufWireError);
    const deep = Buffer.concat([Buffer.alloc(40, 0x0b), Buffer.alloc(40, 0x0c)]);
    assert.throws(() => new ProtoReader(deep).nextField(f), /nested too deeply/);
  });
});

describe('protobuf-wire: editing without a schema', () => {
  const msg = Buffer.concat([
    encodeVarintField(1, 5),
    encodeLengthDelimitedField(100, 'vendor'),
    encodeVarintField(4, 7),
    encodeLengthDelimitedField(2, 'two'),
  ]);

  it('finds the last occurrence and reads length-delimited fields', () => {
    const twice = Buffer.concat([msg, encodeVarintField(4, 9)]);
    const f = findField(twice, 4)!;
    assert.equal(BigInt(readUint64At(twice, f.valueStart)), 9n);
    assert.equal(readLengthDelimited(msg, 100)!.toString(), 'vendor');
    assert.equal(readLengthDelimited(msg, 99), undefined);
    assert.throws(() => readLengthDelimited(msg, 4), ProtobufWireError);
  });

  it('replaces a field in place of the first occurrence and drops duplicates', () => {
    const twice = Buffer.concat([msg, encodeVarintField(4, 9)]);
    const out = setVarintField(twice, 4, 1n << 60n);
    assert.deepEqual(out, Buffer.concat([encodeVarintField(1, 5), encodeLengthDelimitedField(100, 'vendor'), encodeVarintField(4, 1n << 60n), encodeLengthDelimitedField(2, 'two')]));
    assert.deepEqual(replaceField(msg, 100, null), Buffer.concat([encodeVarintField(1, 5), encodeVarintField(4, 7), encodeLengthDelimitedField(2, 'two')]));
  });

  it('inserts an absent field where a canonical serializer puts it', () => {
    const canonical = Buffer.concat([encodeVarintField(1, 1), encodeVarintField(3, 3), encodeVarintField(5, 5)]);
    const without = replaceField(canonical, 3, null);
    assert.deepEqual(setVarintField(without, 3, 3), canonical);
    assert.deepEqual(setVarintField(canonical, 9, 1), Buffer.concat([canonical, encodeVarintField(9, 1)]));
  });

  it('patches in place only for one occurrence of the same size', () => {
    const copy = Buffer.from(msg);
    assert.ok(patchVarintField(copy, 4, 8));
    assert.equal(readUint64At(copy, findField(copy, 4)!.valueStart), 8);
    assert.ok(!patchVarintField(copy, 4, 300), 'size changes');
    assert.ok(!patchVarintField(copy, 99, 1), 'absent');
    assert.ok(!patchVarintField(Buffer.concat([copy, encodeVarintField(4, 1)]), 4, 2), 'duplicate');
    assert.ok(!patchVarintField(copy, 2, 1), 'not a varint');
  });

  it('upserts map entries like protobufjs reads them, keeping every other field', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 5 }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 5 }),
        (initial, mutation) => {
          const base = Buffer.from(All.encode(All.fromObject({ u64: '77', m: initial, s: 'keep' })).finish());
          const withUnknown = Buffer.concat([base, encodeLengthDelimitedField(200, 'unknown')]);
          const out = upsertMapEntries(withUnknown, 13, Object.entries(mutation));
          const decoded = All.toObject(All.decode(out), { longs: String }) as { m?: Record<string, string>; u64?: string; s?: string };
          assert.deepEqual(decoded.m ?? {}, { ...initial, ...mutation });
          assert.equal(decoded.u64, '77');
          assert.equal(decoded.s, 'keep');
          assert.equal(readLengthDelimited(out, 200)!.toString(), 'unknown');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes map entries with missing key or value', () => {
    assert.deepEqual(decodeMapEntry(Buffer.alloc(0), 0, 0), { key: '', value: Buffer.alloc(0) });
    const e = encodeLengthDelimitedField(2, 'v');
    assert.equal(decodeMapEntry(e, 0, e.length).value.toString(), 'v');
  });
});

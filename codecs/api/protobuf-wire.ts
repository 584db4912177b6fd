/**
 * Schema-less protobuf wire-format helpers.
 *
 * Codecs whose headers are protobuf messages (bRPC RpcMeta, tRPC RequestProtocol, ...) read
 * only the few fields they route on and rewrite only the field they must change (a request
 * id, a map entry). Decoding whole messages with a schema would allocate an object per field
 * and drop the fields the schema does not know; working on the wire format keeps every other
 * byte verbatim, including vendor extensions and fields added by newer peers.
 *
 * Readers throw {@link ProtobufWireError} on malformed input; a codec catches it at its
 * `decode` boundary and returns a CodecError value instead.
 */
import { ProtobufWireError } from '../../config/errors.js';
import { decodeName } from './name-cache.js';

/** Protobuf wire types (the low three bits of a field tag). */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;
/** One of the {@link WireType} values. */
export type WireType = (typeof WireType)[keyof typeof WireType];

export { ProtobufWireError };

/** Where one field sits inside a message buffer (all offsets are absolute). */
export interface WireField {
  fieldNumber: number;
  wireType: number;
  /** Offset of the first byte of the tag. */
  start: number;
  /** Offset of the value; for length-delimited fields, the first byte after the length. */
  valueStart: number;
  /** Offset one past the last byte of the field. */
  end: number;
}

/** A fresh, reusable {@link WireField} to pass to {@link ProtoReader.nextField}. */
export function newWireField(): WireField {
  return { fieldNumber: 0, wireType: 0, start: 0, valueStart: 0, end: 0 };
}

const TWO_POW_32 = 0x1_0000_0000;
/** Varints longer than this cannot be valid (a 64-bit value takes at most 10 bytes). */
const MAX_VARINT_BYTES = 10;
/** Groups nest; bound the depth so that hostile input cannot exhaust the stack. */
const MAX_GROUP_DEPTH = 32;
const MASK_64 = (1n << 64n) - 1n;

/** One past the last byte of the varint the last {@link varint32At} call read. */
let varintEnd = 0;
/** The weight of a varint's fifth byte: bytes one to five carry bits 0-34, exact in a double. */
const FIFTH_BYTE_WEIGHT = 2 ** 28;

/**
 * The low 32 bits (unsigned) of the varint at `buf[start]`, which must end before `end`: the
 * value of a varint field found by {@link ProtoReader.nextField}, read without a reader.
 * Hot on every request of the protobuf-headed codecs, so it multiplies by a running weight
 * (`2 ** shift` with a variable shift is a call into Math.pow) and stops adding after the
 * fifth byte, whose bits beyond 31 the final reduction drops anyway.
 */
export function varint32At(buf: Buffer, start: number, end: number): number {
  if (start < end && buf[start]! < 0x80) {
    varintEnd = start + 1;
    return buf[start]!;
  }
  let result = 0;
  let weight = 1;
  const stop = Math.min(end, start + MAX_VARINT_BYTES);
  for (let pos = start; pos < stop; pos++) {
    const b = buf[pos]!;
    if (weight <= FIFTH_BYTE_WEIGHT) result += (b & 0x7f) * weight;
    weight *= 128;
    if (b < 0x80) {
      varintEnd = pos + 1;
      return result >= TWO_POW_32 ? result % TWO_POW_32 : result;
    }
  }
  throw new ProtobufWireError(stop - start === MAX_VARINT_BYTES ? 'varint longer than 10 bytes' : 'truncated varint');
}

/**
 * A cursor over a protobuf message held in `buf[start, end)`. Values are returned without
 * copying where possible (`bytes()` is a subarray of `buf`).
 */
export class ProtoReader {
  readonly buf: Buffer;
  /** Current offset (absolute in `buf`). */
  pos: number;
  /** One past the last byte of the message (absolute in `buf`). */
  readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) {
      throw new ProtobufWireError(`invalid range [${start}, ${end}) of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** True when every byte of the message has been read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Reads the next field's tag and steps over its value, describing it in `out`. Returns
   * false at the end of the message. The cursor ends up after the field.
   */
  nextField(out: WireField): boolean {
    if (this.pos >= this.end) return false;
    out.start = this.pos;
    const tag = this.varint32();
    const fieldNumber = tag >>> 3;
    const wireType = tag & 7;
    if (fieldNumber === 0) throw new ProtobufWireError(`field number 0 at offset ${out.start}`);
    out.fieldNumber = fieldNumber;
    out.wireType = wireType;
    if (wireType === WireType.LengthDelimited) {
      const len = this.varintNumber();
      out.valueStart = this.pos;
      this.#advance(len);
    } else {
      out.valueStart = this.pos;
      this.skipValue(wireType, fieldNumber);
    }
    out.end = this.pos;
    return true;
  }

  /** Reads a varint and returns its low 32 bits as an unsigned number. */
  varint32(): number {
    const v = varint32At(this.buf, this.pos, this.end);
    this.pos = varintEnd;
    return v;
  }

  /**
   * Reads a varint as a non-negative number. Exact up to 2^53 - 1; larger values (which
   * lengths and sizes never are) throw, so a corrupt length cannot become a huge skip.
   */
  varintNumber(): number {
    const v = this.uint64();
    if (typeof v === 'bigint') throw new ProtobufWireError(`varint ${v} exceeds 2^53`);
    return v;
  }

  /**
   * Reads a varint as an unsigned 64-bit integer: a number when it is a safe integer, a
   * bigint otherwise (the convention of `RequestId`, so equal ids are equal values).
   */
  uint64(): number | bigint {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < this.end && buf[pos]! < 0x80) {
      this.pos = pos + 1;
      return buf[pos]!;
    }
    // Fast path: most varints (ids, sizes) fit in 49 bits and are summed as doubles exactly.
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= this.end) throw new ProtobufWireError('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      mul *= 128;
    }
    // Slow path: 8 to 10 bytes, computed exactly with bigint then masked to 64 bits.
    let big = BigInt(result);
    let shift = 49n;
    for (let i = 7; i < MAX_VARINT_BYTES; i++) {
      if (pos >= this.end) throw new ProtobufWireError('truncated varint');
      const b = buf[pos++]!;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        big &= MASK_64;
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      shift += 7n;
    }
    throw new ProtobufWireError('varint longer than 10 bytes');
  }

  /** Reads a varint as a signed 64-bit integer (`int64`: two's complement). */
  int64(): bigint {
    return BigInt.asIntN(64, BigInt(this.uint64()));
  }

  /** Reads an `int32` (negative values are 10-byte varints; the low 32 bits are kept). */
  int32(): number {
    return this.varint32() | 0;
  }

  /** Reads a zigzag-encoded `sint32`. */
  sint32(): number {
    return zigzagDecode32(this.varint32());
  }

  /** Reads a zigzag-encoded `sint64`. */
  sint64(): bigint {
    return zigzagDecode64(BigInt(this.uint64()));
  }

  /** Reads a `bool`. */
  bool(): boolean {
    return this.varint32() !== 0;
  }

  /** Reads a little-endian `fixed32`. */
  fixed32(): number {
    this.#need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Reads a little-endian `sfixed32`. */
  sfixed32(): number {
    this.#need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Reads a little-endian `fixed64`. */
  fixed64(): bigint {
    this.#need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a little-endian `sfixed64`. */
  sfixed64(): bigint {
    this.#need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a length-delimited value as a zero-copy view of `buf`. */
  bytes(): Buffer {
    const len = this.varintNumber();
    const start = this.pos;
    this.#advance(len);
    return this.buf.subarray(start, start + len);
  }

  /** Reads a length-delimited value as UTF-8 text. */
  string(): string {
    const len = this.varintNumber();
    const start = this.pos;
    this.#advance(len);
    return this.buf.toString('utf8', start, start + len);
  }

  /** Skips the value of a field whose tag has just been read. */
  skipValue(wireType: number, fieldNumber = 0, depth = 0): void {
    switch (wireType) {
      case WireType.Varint:
        this.#skipVarint();
        return;
      case WireType.Fixed64:
        this.#advance(8);
        return;
      case WireType.LengthDelimited:
        this.#advance(this.varintNumber());
        return;
      case WireType.Fixed32:
        this.#advance(4);
        return;
      case WireType.StartGroup: {
        if (depth >= MAX_GROUP_DEPTH) throw new ProtobufWireError('groups nested too deeply');
        // A group runs until the EndGroup tag with the same field number.
        for (;;) {
          if (this.pos >= this.end) throw new ProtobufWireError('unterminated group');
          const tag = this.varint32();
          const wt = tag & 7;
          const fn = tag >>> 3;
          if (fn === 0) throw new ProtobufWireError('field number 0 in group');
          if (wt === WireType.EndGroup) {
            if (fn !== fieldNumber) throw new ProtobufWireError('mismatched end group');
            return;
          }
          this.skipValue(wt, fn, depth + 1);
        }
      }
      default:
        throw new ProtobufWireError(`invalid wire type ${wireType}`);
    }
  }

  #skipVarint(): void {
    const limit = Math.min(this.end, this.pos + MAX_VARINT_BYTES);
    for (let pos = this.pos; pos < limit; pos++) {
      if (this.buf[pos]! < 0x80) {
        this.pos = pos + 1;
        return;
      }
    }
    throw new ProtobufWireError(this.end - this.pos < MAX_VARINT_BYTES ? 'truncated varint' : 'varint longer than 10 bytes');
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new ProtobufWireError(`truncated field: need ${n} bytes`);
  }

  #advance(n: number): void {
    this.#need(n);
    this.pos += n;
  }
}

/** Reads the varint at `buf[pos]` as an unsigned 64-bit id (number when safe, else bigint). */
export function readUint64At(buf: Buffer, pos: number, end = buf.length): number | bigint {
  return new ProtoReader(buf, pos, end).uint64();
}

/** Reads the varint at `buf[pos]` as an unsigned 32-bit number (low 32 bits). */
export function readVarint32At(buf: Buffer, pos: number, end = buf.length): number {
  return new ProtoReader(buf, pos, end).varint32();
}

/** Zigzag-encodes a 32-bit signed integer (`sint32`). */
export function zigzagEncode32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

/** Decodes a zigzag-encoded 32-bit value. */
export function zigzagDecode32(n: number): number {
  return (n >>> 1) ^ -(n & 1);
}

/** Zigzag-encodes a 64-bit signed integer (`sint64`). */
export function zigzagEncode64(n: bigint): bigint {
  const v = BigInt.asIntN(64, n);
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

/** Decodes a zigzag-encoded 64-bit value. */
export function zigzagDecode64(n: bigint): bigint {
  const v = BigInt.asUintN(64, n);
  return (v >> 1n) ^ -(v & 1n);
}

/**
 * Normalises a value to write as a varint: negative numbers become their 64-bit two's
 * complement (as protobuf writes `int32`/`int64`), so the result is in [0, 2^64).
 */
function toUnsigned(value: number | bigint): number | bigint {
  if (typeof value === 'bigint') {
    return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : BigInt.asUintN(64, value);
  }
  if (!Number.isInteger(value)) throw new RangeError(`varint value ${value} is not an integer`);
  if (value < 0 || value > Number.MAX_SAFE_INTEGER) return BigInt.asUintN(64, BigInt(value));
  return value;
}

/** Number of bytes `value` takes as a varint (negative values take 10). */
export function varintSize(value: number | bigint): number {
  const v = toUnsigned(value);
  if (typeof v === 'number') {
    let size = 1;
    let rest = v;
    while (rest >= 128) {
      rest = Math.floor(rest / 128);
      size++;
    }
    return size;
  }
  let size = 1;
  let rest = v;
  while (rest >= 128n) {
    rest >>= 7n;
    size++;
  }
  return size;
}

/** Writes `value` as a varint at `buf[pos]`; returns the offset after it. */
export function writeVarint(buf: Buffer, pos: number, value: number | bigint): number {
  const v = toUnsigned(value);
  if (typeof v === 'number') {
    let rest = v;
    // Division rather than bit shifts: JS shifts truncate to 32 bits.
    while (rest >= 128) {
      buf[pos++] = (rest % 128) | 0x80;
      rest = Math.floor(rest / 128);
    }
    buf[pos++] = rest;
    return pos;
  }
  let rest = v;
  while (rest >= 128n) {
    buf[pos++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  buf[pos++] = Number(rest);
  return pos;
}

/** `value` encoded as a varint. */
export function encodeVarint(value: number | bigint): Buffer {
  const out = Buffer.allocUnsafe(varintSize(value));
  writeVarint(out, 0, value);
  return out;
}

/** The tag value (`fieldNumber << 3 | wireType`) to write as a varint. */
export function fieldTag(fieldNumber: number, wireType: WireType): number {
  return fieldNumber * 8 + wireType;
}

/** A complete varint field: tag + value. */
export function encodeVarintField(fieldNumber: number, value: number | bigint): Buffer {
  const tag = fieldTag(fieldNumber, WireType.Varint);
  const out = Buffer.allocUnsafe(varintSize(tag) + varintSize(value));
  writeVarint(out, writeVarint(out, 0, tag), value);
  return out;
}

/** A complete length-delimited field: tag + length + bytes (strings are written as UTF-8). */
export function encodeLengthDelimitedField(fieldNumber: number, value: Uint8Array | string): Buffer {
  const payload = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const tag = fieldTag(fieldNumber, WireType.LengthDelimited);
  const head = varintSize(tag) + varintSize(payload.length);
  const out = Buffer.allocUnsafe(head + payload.length);
  writeVarint(out, writeVarint(out, 0, tag), payload.length);
  out.set(payload, head);
  return out;
}

/**
 * A `map<string, string|bytes>` entry as field `fieldNumber` of the enclosing message:
 * a length-delimited entry message `{1: key, 2: value}`.
 */
export function encodeMapEntry(fieldNumber: number, key: string, value: Uint8Array | string): Buffer {
  const entry = Buffer.concat([encodeLengthDelimitedField(1, key), encodeLengthDelimitedField(2, value)]);
  return encodeLengthDelimitedField(fieldNumber, entry);
}

/** Key and value of a map entry message; the value is a zero-copy view. */
export interface MapEntry {
  key: string;
  value: Buffer;
}

const EMPTY: Buffer = Buffer.alloc(0);

/** Walks every field of the message `buf[start, end)`; throws ProtobufWireError when malformed. */
export function validateMessage(buf: Buffer, start = 0, end = buf.length): void {
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  while (r.nextField(f)) {
    // nextField checks each tag, length and value boundary.
  }
}

/**
 * Decodes a map entry message held in `buf[start, end)` (the value of a map field). Missing
 * key or value default to empty, as protobuf says.
 */
export function decodeMapEntry(buf: Buffer, start: number, end: number): MapEntry {
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  let key = '';
  let value: Buffer = EMPTY;
  while (r.nextField(f)) {
    if (f.fieldNumber === 1 && f.wireType === WireType.LengthDelimited) {
      key = decodeName(buf, f.valueStart, f.end);
    } else if (f.fieldNumber === 2 && f.wireType === WireType.LengthDelimited) {
      value = buf.subarray(f.valueStart, f.end);
    }
  }
  return { key, value };
}

/**
 * The last occurrence of `fieldNumber` in the message `buf[start, end)` (protobuf's "last
 * one wins" for scalars), or undefined.
 */
export function findField(buf: Buffer, fieldNumber: number, start = 0, end = buf.length): WireField | undefined {
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  let found: WireField | undefined;
  while (r.nextField(f)) {
    if (f.fieldNumber === fieldNumber) found = { ...f };
  }
  return found;
}

/** The value of the last length-delimited field `fieldNumber` (zero-copy), or undefined. */
export function readLengthDelimited(buf: Buffer, fieldNumber: number, start = 0, end = buf.length): Buffer | undefined {
  const f = findField(buf, fieldNumber, start, end);
  if (f === undefined) return undefined;
  if (f.wireType !== WireType.LengthDelimited) {
    throw new ProtobufWireError(`field ${fieldNumber} has wire type ${f.wireType}, not length-delimited`);
  }
  return buf.subarray(f.valueStart, f.end);
}

/**
 * Rebuilds the message `buf[start, end)` with every occurrence of the fields for which
 * `drop` returns true removed and `insert` (complete encoded fields) placed where the first
 * dropped field was, or appended when none was dropped. Every other byte is kept verbatim
 * and in order.
 */
export function spliceFields(
  buf: Buffer,
  drop: (field: WireField) => boolean,
  insert: Uint8Array | null,
  start = 0,
  end = buf.length,
): Buffer {
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  const parts: Uint8Array[] = [];
  let copyFrom = start;
  let inserted = insert === null;
  while (r.nextField(f)) {
    if (!drop(f)) continue;
    if (f.start > copyFrom) parts.push(buf.subarray(copyFrom, f.start));
    if (!inserted) {
      parts.push(insert!);
      inserted = true;
    }
    copyFrom = f.end;
  }
  if (end > copyFrom) parts.push(buf.subarray(copyFrom, end));
  if (!inserted) parts.push(insert!);
  return Buffer.concat(parts);
}

/**
 * Replaces field `fieldNumber` of the message `buf[start, end)`: every occurrence is removed
 * and `replacement` (a complete encoded field, or null to delete) goes where the first one
 * was. When the field is absent it goes before the first field with a higher number, where
 * a canonical serializer (Go, C++, protobufjs) would have written it, so that removing and
 * re-adding a field gives back the original bytes. Unknown fields are kept. Returns a new
 * buffer holding only the message.
 */
export function replaceField(
  buf: Buffer,
  fieldNumber: number,
  replacement: Uint8Array | null,
  start = 0,
  end = buf.length,
): Buffer {
  if (replacement !== null && findField(buf, fieldNumber, start, end) === undefined) {
    const r = new ProtoReader(buf, start, end);
    const f = newWireField();
    let at = end;
    while (r.nextField(f)) {
      if (f.fieldNumber > fieldNumber) {
        at = f.start;
        break;
      }
    }
    return Buffer.concat([buf.subarray(start, at), replacement, buf.subarray(at, end)]);
  }
  return spliceFields(buf, (f) => f.fieldNumber === fieldNumber, replacement, start, end);
}

/** Sets varint field `fieldNumber` to `value` (see {@link replaceField}); returns a new buffer. */
export function setVarintField(buf: Buffer, fieldNumber: number, value: number | bigint, start = 0, end = buf.length): Buffer {
  return replaceField(buf, fieldNumber, encodeVarintField(fieldNumber, value), start, end);
}

/**
 * Overwrites varint field `fieldNumber` of `buf[start, end)` **in place** when it occurs
 * exactly once and `value` encodes to the same number of bytes. Returns false (and changes
 * nothing) otherwise, so the caller falls back to {@link setVarintField}.
 */
export function patchVarintField(buf: Buffer, fieldNumber: number, value: number | bigint, start = 0, end = buf.length): boolean {
  const r = new ProtoReader(buf, start, end);
  const f = newWireField();
  let valueStart = -1;
  let valueEnd = -1;
  while (r.nextField(f)) {
    if (f.fieldNumber !== fieldNumber) continue;
    if (valueStart >= 0 || f.wireType !== WireType.Varint) return false;
    valueStart = f.valueStart;
    valueEnd = f.end;
  }
  return valueStart >= 0 && overwriteVarint(buf, valueStart, valueEnd, value);
}

/**
 * Overwrites the varint held in `buf[start, end)` with `value` when `value` encodes to
 * exactly that many bytes; returns false (and changes nothing) otherwise. A codec that kept
 * where its decode found an id calls this instead of {@link patchVarintField}'s walk.
 */
export function overwriteVarint(buf: Buffer, start: number, end: number, value: number | bigint): boolean {
  if (varintSize(value) !== end - start) return false;
  writeVarint(buf, start, value);
  return true;
}

/**
 * Adds or replaces entries of the `map<string, string|bytes>` field `mapFieldNumber` in the
 * message `buf[start, end)`: existing entries whose key is being set are removed, the new
 * entries are appended where the first removed entry was (or at the end). Entries with
 * other keys and every other field are kept verbatim. Returns a new buffer.
 */
export function upsertMapEntries(
  buf: Buffer,
  mapFieldNumber: number,
  entries: Iterable<readonly [string, Uint8Array | string]>,
  start = 0,
  end = buf.length,
): Buffer {
  const keys = new Set<string>();
  const encoded: Buffer[] = [];
  for (const [key, value] of entries) {
    keys.add(key);
    encoded.push(encodeMapEntry(mapFieldNumber, key, value));
  }
  if (encoded.length === 0) return Buffer.from(buf.subarray(start, end));
  const drop = (f: WireField): boolean => {
    if (f.fieldNumber !== mapFieldNumber || f.wireType !== WireType.LengthDelimited) return false;
    try {
      return keys.has(decodeMapEntry(buf, f.valueStart, f.end).key);
    } catch (err) {
      // A malformed entry is not ours to judge: keep its bytes as they are.
      if (err instanceof ProtobufWireError) return false;
      throw err;
    }
  };
  return spliceFields(buf, drop, Buffer.concat(encoded), start, end);
}

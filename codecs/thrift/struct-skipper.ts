import { BinaryType, CompactType } from './constants.js';
import type { ThriftProtocol } from './message-header.js';
import { fail, needBytes, readVarint32, skipVarint, varintOut, type ScanState } from './scan.js';

/**
 * Finds the end of a Thrift struct without the IDL and without building any value: the only
 * way to delimit an unframed message (spec/wire-formats.md §2.1). Strings and fixed-size
 * container elements are skipped by arithmetic, so cost grows with the number of fields,
 * not with the bytes.
 *
 * Safety: nesting (struct, list, set, map) is bounded by `maxDepth`, every loop iteration
 * consumes at least one byte of a finite buffer, and lengths are checked before use, so
 * corrupt input ends in NEED or FAIL, never in a deep recursion or an endless loop.
 */
export function skipStruct(
  protocol: ThriftProtocol,
  buf: Buffer,
  off: number,
  end: number,
  maxDepth: number,
  st: ScanState,
): number {
  return protocol === 'binary'
    ? skipBinaryStruct(buf, off, end, maxDepth, st)
    : skipCompactStruct(buf, off, end, maxDepth, st);
}

/** Encoded size of a fixed-size binary value, 0 for variable-size types, -1 for unknown types. */
function binaryFixedSize(type: number): number {
  switch (type) {
    case BinaryType.Bool:
    case BinaryType.I8:
      return 1;
    case BinaryType.I16:
      return 2;
    case BinaryType.I32:
      return 4;
    case BinaryType.Double:
    case BinaryType.I64:
      return 8;
    case BinaryType.Uuid:
      return 16;
    case BinaryType.String:
    case BinaryType.Struct:
    case BinaryType.Map:
    case BinaryType.Set:
    case BinaryType.List:
      return 0;
    default:
      return -1;
  }
}

function skipBinaryStruct(buf: Buffer, off: number, end: number, depth: number, st: ScanState): number {
  if (depth <= 0) return fail(st, 'struct nesting too deep');
  let p = off;
  for (;;) {
    if (p >= end) return needBytes(st, p + 1);
    const type = buf[p]!;
    if (type === BinaryType.Stop) return p + 1;
    if (p + 3 > end) return needBytes(st, p + 3);
    p = skipBinaryValue(buf, p + 3, end, type, depth, st);
    if (p < 0) return p;
  }
}

function skipBinaryValue(buf: Buffer, off: number, end: number, type: number, depth: number, st: ScanState): number {
  const fixed = binaryFixedSize(type);
  if (fixed > 0) return off + fixed > end ? needBytes(st, off + fixed) : off + fixed;
  if (fixed < 0) return fail(st, `unknown binary type ${type}`);
  switch (type) {
    case BinaryType.String: {
      if (off + 4 > end) return needBytes(st, off + 4);
      const len = buf.readInt32BE(off);
      if (len < 0) return fail(st, 'negative string length');
      const q = off + 4 + len;
      return q > end ? needBytes(st, q) : q;
    }
    case BinaryType.Struct:
      return skipBinaryStruct(buf, off, end, depth - 1, st);
    case BinaryType.Map: {
      if (off + 6 > end) return needBytes(st, off + 6);
      const k = buf[off]!;
      const v = buf[off + 1]!;
      const n = buf.readInt32BE(off + 2);
      return skipBinaryElements(buf, off + 6, end, k, v, n, depth, st);
    }
    default: {
      // Set and List share a layout: element type, i32 size.
      if (off + 5 > end) return needBytes(st, off + 5);
      const e = buf[off]!;
      const n = buf.readInt32BE(off + 1);
      return skipBinaryElements(buf, off + 5, end, e, -1, n, depth, st);
    }
  }
}

/** Skips `n` elements (map entries when `valueType` >= 0). */
function skipBinaryElements(
  buf: Buffer,
  off: number,
  end: number,
  keyType: number,
  valueType: number,
  n: number,
  depth: number,
  st: ScanState,
): number {
  if (n < 0) return fail(st, 'negative container size');
  if (n === 0) return off;
  if (depth <= 1) return fail(st, 'container nesting too deep');
  const kf = binaryFixedSize(keyType);
  const vf = valueType < 0 ? 0 : binaryFixedSize(valueType);
  if (kf < 0 || vf < 0) return fail(st, 'unknown container element type');
  if (kf > 0 && (valueType < 0 || vf > 0)) {
    const q = off + n * (kf + vf);
    return q > end ? needBytes(st, q) : q;
  }
  let p = off;
  for (let i = 0; i < n; i++) {
    p = skipBinaryValue(buf, p, end, keyType, depth - 1, st);
    if (p < 0) return p;
    if (valueType >= 0) {
      p = skipBinaryValue(buf, p, end, valueType, depth - 1, st);
      if (p < 0) return p;
    }
  }
  return p;
}

/** Encoded size of a fixed-size compact element, 0 for variable-size types, -1 for unknown. */
function compactFixedSize(type: number): number {
  switch (type) {
    case CompactType.BoolTrue:
    case CompactType.BoolFalse:
    case CompactType.I8:
      return 1;
    case CompactType.Double:
      return 8;
    case CompactType.Uuid:
      return 16;
    case CompactType.I16:
    case CompactType.I32:
    case CompactType.I64:
    case CompactType.Binary:
    case CompactType.List:
    case CompactType.Set:
    case CompactType.Map:
    case CompactType.Struct:
      return 0;
    default:
      return -1;
  }
}

function skipCompactStruct(buf: Buffer, off: number, end: number, depth: number, st: ScanState): number {
  if (depth <= 0) return fail(st, 'struct nesting too deep');
  let p = off;
  for (;;) {
    if (p >= end) return needBytes(st, p + 1);
    const b = buf[p++]!;
    if (b === CompactType.Stop) return p;
    const type = b & 0x0f;
    if (b >> 4 === 0) {
      // Long form: the field id follows as a zigzag varint (always used for id 0).
      p = skipVarint(buf, p, end, 5, st);
      if (p < 0) return p;
    }
    // A boolean field carries its value in the type nibble.
    if (type === CompactType.BoolTrue || type === CompactType.BoolFalse) continue;
    p = skipCompactValue(buf, p, end, type, depth, st);
    if (p < 0) return p;
  }
}

function skipCompactValue(buf: Buffer, off: number, end: number, type: number, depth: number, st: ScanState): number {
  const fixed = compactFixedSize(type);
  if (fixed > 0) return off + fixed > end ? needBytes(st, off + fixed) : off + fixed;
  if (fixed < 0) return fail(st, `unknown compact type ${type}`);
  switch (type) {
    case CompactType.I16:
    case CompactType.I32:
      return skipVarint(buf, off, end, 5, st);
    case CompactType.I64:
      return skipVarint(buf, off, end, 10, st);
    case CompactType.Binary: {
      const p = readVarint32(buf, off, end, st);
      if (p < 0) return p;
      const q = p + varintOut.value;
      return q > end ? needBytes(st, q) : q;
    }
    case CompactType.Struct:
      return skipCompactStruct(buf, off, end, depth - 1, st);
    case CompactType.Map: {
      let p = readVarint32(buf, off, end, st);
      if (p < 0) return p;
      const n = varintOut.value;
      if (n === 0) return p;
      if (p >= end) return needBytes(st, p + 1);
      const kv = buf[p++]!;
      return skipCompactElements(buf, p, end, kv >> 4, kv & 0x0f, n, depth, st);
    }
    default: {
      // List and Set: size nibble (15 = a varint size follows) and element type.
      if (off >= end) return needBytes(st, off + 1);
      const h = buf[off]!;
      let p = off + 1;
      let n = h >> 4;
      if (n === 15) {
        p = readVarint32(buf, p, end, st);
        if (p < 0) return p;
        n = varintOut.value;
      }
      return skipCompactElements(buf, p, end, h & 0x0f, -1, n, depth, st);
    }
  }
}

/** Skips `n` container elements (map entries when `valueType` >= 0). */
function skipCompactElements(
  buf: Buffer,
  off: number,
  end: number,
  keyType: number,
  valueType: number,
  n: number,
  depth: number,
  st: ScanState,
): number {
  if (n === 0) return off;
  if (depth <= 1) return fail(st, 'container nesting too deep');
  const kf = compactFixedSize(keyType);
  const vf = valueType < 0 ? 0 : compactFixedSize(valueType);
  if (kf < 0 || vf < 0) return fail(st, 'unknown container element type');
  if (kf > 0 && (valueType < 0 || vf > 0)) {
    const q = off + n * (kf + vf);
    return q > end ? needBytes(st, q) : q;
  }
  let p = off;
  for (let i = 0; i < n; i++) {
    p = skipCompactValue(buf, p, end, keyType, depth - 1, st);
    if (p < 0) return p;
    if (valueType >= 0) {
      p = skipCompactValue(buf, p, end, valueType, depth - 1, st);
      if (p < 0) return p;
    }
  }
  return p;
}

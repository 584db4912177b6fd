import { decodeName } from '../api/name-cache.js';
import { COMPACT_PROTOCOL_ID, COMPACT_VERSION, CompactType, type ThriftMessageType } from './constants.js';
import { isMessageType, type MessageHeader } from './message-header.js';
import { fail, needBytes, readVarint32, varintLength, varintOut, writeVarint32, type ScanState } from './scan.js';

/**
 * Reads a compact message header `82 | type<<5|1 | varint seqid | varint nameLen | name` at
 * `off`. Fills `out` and returns the offset of the args/result struct, or NEED / FAIL.
 * The seqid is a plain varint, not zigzag (thrift-compact-protocol.md).
 */
export function readCompactMessageHeader(
  buf: Buffer,
  off: number,
  end: number,
  out: MessageHeader,
  st: ScanState,
): number {
  if (off + 2 > end) return needBytes(st, off + 2);
  if (buf[off] !== COMPACT_PROTOCOL_ID) return fail(st, `bad compact protocol id 0x${buf[off]!.toString(16)}`);
  const b = buf[off + 1]!;
  if ((b & 0x1f) !== COMPACT_VERSION) return fail(st, `bad compact version ${b & 0x1f}`);
  const type = (b >> 5) & 0x07;
  if (!isMessageType(type)) return fail(st, `bad message type ${type}`);
  const seqidOffset = off + 2;
  let p = readVarint32(buf, seqidOffset, end, st);
  if (p < 0) return p;
  const seqid = varintOut.value;
  const seqidLength = p - seqidOffset;
  p = readVarint32(buf, p, end, st);
  if (p < 0) return p;
  const nameLen = varintOut.value;
  if (p + nameLen > end) return needBytes(st, p + nameLen);
  out.name = decodeName(buf, p, p + nameLen);
  out.type = type;
  out.seqid = seqid;
  out.seqidOffset = seqidOffset;
  out.seqidLength = seqidLength;
  out.strict = true;
  return p + nameLen;
}

/** Bytes of a compact message header for `name` and `seqid`. */
export function compactMessageHeaderSize(name: string, seqid: number): number {
  const nameLen = Buffer.byteLength(name, 'utf8');
  return 2 + varintLength(seqid >>> 0) + varintLength(nameLen) + nameLen;
}

/** Writes a compact message header at `off`; returns the offset after it. */
export function writeCompactMessageHeader(
  buf: Buffer,
  off: number,
  name: string,
  type: ThriftMessageType,
  seqid: number,
): number {
  buf[off] = COMPACT_PROTOCOL_ID;
  buf[off + 1] = (type << 5) | COMPACT_VERSION;
  let p = writeVarint32(buf, off + 2, seqid >>> 0);
  const nameBytes = Buffer.from(name, 'utf8');
  p = writeVarint32(buf, p, nameBytes.length);
  nameBytes.copy(buf, p);
  return p + nameBytes.length;
}

/** Zigzag encoding of an i32, as compact writes i32 and i16 values. */
function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

/** Bytes of a compact TApplicationException struct with message `text` and `type`. */
export function compactAppExceptionSize(text: string, type: number): number {
  const len = Buffer.byteLength(text, 'utf8');
  // 18 varint(len) text | 15 zigzag(type) | 00
  return 1 + varintLength(len) + len + 1 + varintLength(zigzag32(type)) + 1;
}

/**
 * Writes TApplicationException {1: string message, 2: i32 type} in compact, with short-form
 * field headers (delta 1 each) exactly as the Apache libraries emit it; returns the end.
 */
export function writeCompactAppException(buf: Buffer, off: number, text: string, type: number): number {
  const textBytes = Buffer.from(text, 'utf8');
  let p = off;
  buf[p++] = (1 << 4) | CompactType.Binary;
  p = writeVarint32(buf, p, textBytes.length);
  textBytes.copy(buf, p);
  p += textBytes.length;
  buf[p++] = (1 << 4) | CompactType.I32;
  p = writeVarint32(buf, p, zigzag32(type));
  buf[p++] = CompactType.Stop;
  return p;
}

import { decodeName } from '../api/name-cache.js';
import { BINARY_VERSION_1, BinaryType, type ThriftMessageType } from './constants.js';
import { isMessageType, type MessageHeader } from './message-header.js';
import { fail, needBytes, type ScanState } from './scan.js';

/**
 * Reads a binary-protocol message header at `off` (strict `80 01 00 0T` or the old
 * non-strict form, which readers must still accept). Fills `out` and returns the offset of
 * the args/result struct, or NEED / FAIL.
 */
export function readBinaryMessageHeader(
  buf: Buffer,
  off: number,
  end: number,
  out: MessageHeader,
  st: ScanState,
): number {
  if (off + 4 > end) return needBytes(st, off + 4);
  const first = buf.readUInt32BE(off);
  let p = off + 4;
  if (first >= 0x80000000) {
    if (first >>> 16 !== BINARY_VERSION_1) return fail(st, `bad binary version 0x${first.toString(16)}`);
    const type = first & 0xff;
    if (!isMessageType(type)) return fail(st, `bad message type ${type}`);
    if (p + 4 > end) return needBytes(st, p + 4);
    const nameLen = buf.readInt32BE(p);
    p += 4;
    if (nameLen < 0) return fail(st, 'negative method name length');
    if (p + nameLen + 4 > end) return needBytes(st, p + nameLen + 4);
    out.name = decodeName(buf, p, p + nameLen);
    p += nameLen;
    out.type = type;
    out.strict = true;
  } else {
    // Non-strict: the first word is the name length, then an i8 message type.
    const nameLen = first;
    if (p + nameLen + 5 > end) return needBytes(st, p + nameLen + 5);
    const type = buf[p + nameLen]!;
    if (!isMessageType(type)) return fail(st, `bad message type ${type}`);
    out.name = decodeName(buf, p, p + nameLen);
    p += nameLen + 1;
    out.type = type;
    out.strict = false;
  }
  out.seqid = buf.readUInt32BE(p);
  out.seqidOffset = p;
  out.seqidLength = 4;
  return p + 4;
}

/** Bytes of a strict binary message header for `name`. */
export function binaryMessageHeaderSize(name: string): number {
  return 12 + Buffer.byteLength(name, 'utf8');
}

/** Writes a strict binary message header at `off`; returns the offset after it. */
export function writeBinaryMessageHeader(
  buf: Buffer,
  off: number,
  name: string,
  type: ThriftMessageType,
  seqid: number,
): number {
  buf.writeUInt32BE(((BINARY_VERSION_1 << 16) | type) >>> 0, off);
  const nameLen = buf.write(name, off + 8, 'utf8');
  buf.writeUInt32BE(nameLen, off + 4);
  buf.writeUInt32BE(seqid >>> 0, off + 8 + nameLen);
  return off + 12 + nameLen;
}

/** Bytes of a binary TApplicationException struct with message `text`. */
export function binaryAppExceptionSize(text: string): number {
  // 0b 0001 len text | 08 0002 type | 00
  return 7 + Buffer.byteLength(text, 'utf8') + 7 + 1;
}

/** Writes TApplicationException {1: string message, 2: i32 type} in binary; returns the end. */
export function writeBinaryAppException(buf: Buffer, off: number, text: string, type: number): number {
  let p = off;
  buf[p++] = BinaryType.String;
  buf.writeUInt16BE(1, p);
  p += 2;
  const len = buf.write(text, p + 4, 'utf8');
  buf.writeUInt32BE(len, p);
  p += 4 + len;
  buf[p++] = BinaryType.I32;
  buf.writeUInt16BE(2, p);
  p += 2;
  buf.writeInt32BE(type, p);
  p += 4;
  buf[p++] = BinaryType.Stop;
  return p;
}

// Framed Thrift messages for the bench (spec/wire-formats.md §2): a TMultiplexedProtocol call
// `Echo:echo(1: string arg)` and its reply `echo -> 0: string success`, in the binary (strict)
// and the compact protocol. Sequence ids come from protocols/protocol.ts's fixed-width range,
// so the compact varint seqid always takes 5 bytes and every request has the same size.
import { fitLengthDelimited, readVarint, writeVarintWidth } from '../protocols/varint.ts';

export type ThriftEncoding = 'binary' | 'compact';

export const SERVICE = 'Echo';
export const METHOD = 'echo';
const CALL_NAME = `${SERVICE}:${METHOD}`;
/** The multiplexed processor answers with the bare method name. */
const REPLY_NAME = METHOD;

const FRAME_HEADER = 4;
const CALL = 1;
const REPLY = 2;
const EXCEPTION = 3;
const BINARY_VERSION_1 = 0x80010000;
const BINARY_T_STRING = 11;
const COMPACT_ID = 0x82;
const COMPACT_VERSION = 1;
const COMPACT_T_BINARY = 8;
const SEQID_WIDTH = 5;

/** Fixed bytes of a request around the argument's content, per encoding. */
function requestOverhead(enc: ThriftEncoding): number {
  return enc === 'binary'
    ? FRAME_HEADER + 4 + 4 + CALL_NAME.length + 4 + 3 + 4 + 1
    : FRAME_HEADER + 2 + SEQID_WIDTH + 1 + CALL_NAME.length + 1 + 1; // + length varint of the argument
}

export function minThriftFrame(enc: ThriftEncoding): number {
  return requestOverhead(enc) + (enc === 'compact' ? 1 : 0);
}

export interface ThriftTemplate {
  readonly frame: Buffer;
  /** Offset of the seqid inside the frame. */
  readonly seqidOffset: number;
  readonly responseSize: number;
}

/** A CALL of exactly `frameSize` bytes, length prefix included, with seqid 0. */
export function buildThriftRequest(enc: ThriftEncoding, frameSize: number): ThriftTemplate {
  const frame = Buffer.alloc(frameSize, 0x78 /* 'x' fills the argument */);
  frame.writeUInt32BE(frameSize - FRAME_HEADER, 0);
  let off = FRAME_HEADER;
  let seqidOffset: number;
  let argLength: number;
  let lengthWidth = 4;
  if (enc === 'binary') {
    argLength = frameSize - requestOverhead(enc);
    if (argLength < 0) throw new RangeError(`payload ${frameSize} B is below the ${minThriftFrame(enc)} B a Thrift call needs`);
    off = frame.writeUInt32BE((BINARY_VERSION_1 | CALL) >>> 0, off);
    off = frame.writeUInt32BE(CALL_NAME.length, off);
    off += frame.write(CALL_NAME, off, 'latin1');
    seqidOffset = off;
    off = frame.writeUInt32BE(0, off);
    frame[off++] = BINARY_T_STRING;
    off = frame.writeUInt16BE(1, off);
    off = frame.writeUInt32BE(argLength, off);
  } else {
    const fit = fitLengthDelimited(frameSize - requestOverhead(enc), 0);
    if (fit === null) throw new RangeError(`payload ${frameSize} B is below the ${minThriftFrame(enc)} B a Thrift call needs`);
    argLength = fit.length;
    lengthWidth = fit.width;
    frame[off++] = COMPACT_ID;
    frame[off++] = (CALL << 5) | COMPACT_VERSION;
    seqidOffset = off;
    off = writeVarintWidth(frame, off, 0, SEQID_WIDTH);
    frame[off++] = CALL_NAME.length;
    off += frame.write(CALL_NAME, off, 'latin1');
    frame[off++] = (1 << 4) | COMPACT_T_BINARY; // field delta 1, binary
    off = writeVarintWidth(frame, off, argLength, lengthWidth);
  }
  off += argLength;
  frame[off++] = 0; // STOP
  if (off !== frameSize) throw new Error(`thrift sizing bug: wrote ${off} of ${frameSize} bytes`);
  const nameDelta = CALL_NAME.length - REPLY_NAME.length;
  // The reply's field header for id 0 is one byte longer in compact (long form `08 00`).
  return { frame, seqidOffset, responseSize: frameSize - nameDelta + (enc === 'compact' ? 1 : 0) };
}

export function writeSeqid(enc: ThriftEncoding, buf: Buffer, off: number, seqid: number): void {
  if (enc === 'binary') buf.writeInt32BE(seqid | 0, off);
  else writeVarintWidth(buf, off, seqid, SEQID_WIDTH);
}

export interface ThriftHeader {
  readonly encoding: ThriftEncoding;
  readonly type: number;
  readonly name: string;
  readonly seqid: number;
  /** Offset just after the header: where the args/result struct begins. */
  readonly bodyOffset: number;
}

/** Reads the message header of the framed message at `buf[off .. off + length)`; null when it is not one. */
export function readThriftHeader(buf: Buffer, off: number, length: number): ThriftHeader | null {
  const end = off + length;
  let p = off + FRAME_HEADER;
  if (p + 2 > end) return null;
  if (buf[p] === 0x80) {
    if (p + 12 > end) return null;
    const type = buf[p + 3]!;
    const nameLength = buf.readUInt32BE(p + 4);
    p += 8;
    if (p + nameLength + 4 > end) return null;
    const name = buf.toString('latin1', p, p + nameLength);
    p += nameLength;
    return { encoding: 'binary', type, name, seqid: buf.readUInt32BE(p), bodyOffset: p + 4 };
  }
  if (buf[p] === COMPACT_ID) {
    const type = buf[p + 1]! >> 5;
    const seq = readVarint(buf, p + 2, end);
    if (seq === null) return null;
    const nameLength = readVarint(buf, seq[1], end);
    if (nameLength === null || nameLength[1] + nameLength[0] > end) return null;
    const name = buf.toString('latin1', nameLength[1], nameLength[1] + nameLength[0]);
    return { encoding: 'compact', type, name, seqid: seq[0], bodyOffset: nameLength[1] + nameLength[0] };
  }
  return null;
}

/** Whether a reply header reads as success (REPLY) rather than an application exception. */
export function isReply(h: ThriftHeader): boolean {
  return h.type === REPLY;
}

export function isException(h: ThriftHeader): boolean {
  return h.type === EXCEPTION;
}

/**
 * The echo server's answer to a framed call: REPLY with the same seqid whose `success` (field 0)
 * is the call's first argument, byte for byte (its length kept at the width the caller used).
 * Null when the call does not hold a string field 1.
 */
export function thriftEchoReply(buf: Buffer, off: number, length: number): Buffer | null {
  const h = readThriftHeader(buf, off, length);
  if (h === null || h.type !== CALL) return null;
  const end = off + length;
  const colon = h.name.indexOf(':');
  const name = colon >= 0 ? h.name.slice(colon + 1) : h.name;
  let p = h.bodyOffset;
  if (h.encoding === 'binary') {
    if (p + 7 > end || buf[p] !== BINARY_T_STRING || buf.readUInt16BE(p + 1) !== 1) return null;
    const argStart = p + 3; // i32 length + bytes, copied as they are
    const argEnd = argStart + 4 + buf.readUInt32BE(argStart);
    if (argEnd > end) return null;
    const size = FRAME_HEADER + 4 + 4 + name.length + 4 + 3 + (argEnd - argStart) + 1;
    const out = Buffer.allocUnsafe(size);
    p = out.writeUInt32BE(size - FRAME_HEADER, 0);
    p = out.writeUInt32BE((BINARY_VERSION_1 | REPLY) >>> 0, p);
    p = out.writeUInt32BE(name.length, p);
    p += out.write(name, p, 'latin1');
    p = out.writeUInt32BE(h.seqid, p);
    out[p++] = BINARY_T_STRING;
    p = out.writeUInt16BE(0, p);
    p += buf.copy(out, p, argStart, argEnd);
    out[p++] = 0;
    return out;
  }
  if (p >= end || buf[p] !== ((1 << 4) | COMPACT_T_BINARY)) return null;
  const argStart = p + 1; // varint length + bytes, copied as they are
  const len = readVarint(buf, argStart, end);
  if (len === null || len[1] + len[0] > end) return null;
  const argEnd = len[1] + len[0];
  const size = FRAME_HEADER + 2 + SEQID_WIDTH + 1 + name.length + 2 + (argEnd - argStart) + 1;
  const out = Buffer.allocUnsafe(size);
  p = out.writeUInt32BE(size - FRAME_HEADER, 0);
  out[p++] = COMPACT_ID;
  out[p++] = (REPLY << 5) | COMPACT_VERSION;
  p = writeVarintWidth(out, p, h.seqid, Math.max(SEQID_WIDTH, 1));
  out[p++] = name.length;
  p += out.write(name, p, 'latin1');
  out[p++] = COMPACT_T_BINARY; // long form: type, then zigzag field id 0
  out[p++] = 0;
  p += buf.copy(out, p, argStart, argEnd);
  out[p++] = 0;
  return out;
}

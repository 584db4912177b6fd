import { deflateSync, inflateSync } from 'node:zlib';
import {
  THEADER_FIXED_SIZE,
  THEADER_INFO_KEYVALUE,
  THEADER_MAGIC,
  THEADER_PROTOCOL_BINARY,
  THEADER_PROTOCOL_COMPACT,
  THEADER_TRANSFORM_ZLIB,
} from './constants.js';
import type { ThriftProtocol } from './message-header.js';
import { fail, readVarint32, varintLength, varintOut, writeVarint32, type ScanState } from './scan.js';

/**
 * THeader framing (apache/thrift doc/specs/HeaderFormat.md, spec/wire-formats.md §2.1):
 *
 *   0 u32 length (excludes itself) · 4 u16 magic 0x0fff · 6 u16 flags · 8 u32 seqid ·
 *   12 u16 header size in words · 14 varint protocol id · varint transform count · ids ·
 *   info blocks · zero padding · payload
 */
export interface THeaderLayout {
  flags: number;
  /** The header's own sequence number (@8), read as unsigned. */
  seqid: number;
  /** 0 binary, 2 compact; read for every frame since peers answer in another protocol. */
  protocolId: number;
  /** Transform ids in the order they were applied. */
  transforms: number[];
  /** Offset of the first info block. */
  infoStart: number;
  /** Offset of the payload (end of the padded header). */
  payloadStart: number;
}

/**
 * Parses the THeader of a complete `frame` (length prefix included). Returns the payload
 * offset, or FAIL with the reason in `st`. Protocols and transforms this codec cannot carry
 * fail here, so a frame is either fully understood or refused.
 */
export function parseTHeader(frame: Buffer, out: THeaderLayout, st: ScanState): number {
  if (frame.length < THEADER_FIXED_SIZE) return fail(st, 'THeader frame shorter than its fixed header');
  if (frame.readUInt16BE(4) !== THEADER_MAGIC) return fail(st, 'THeader magic missing');
  const payloadStart = THEADER_FIXED_SIZE + frame.readUInt16BE(12) * 4;
  if (payloadStart > frame.length) return fail(st, 'THeader header size exceeds the frame');
  let p = readVarint32(frame, THEADER_FIXED_SIZE, payloadStart, st);
  if (p < 0) return fail(st, 'truncated THeader protocol id');
  const protocolId = varintOut.value;
  if (protocolId !== THEADER_PROTOCOL_BINARY && protocolId !== THEADER_PROTOCOL_COMPACT) {
    return fail(st, `unsupported THeader protocol id ${protocolId}`);
  }
  p = readVarint32(frame, p, payloadStart, st);
  if (p < 0) return fail(st, 'truncated THeader transform count');
  const count = varintOut.value;
  const transforms: number[] = [];
  for (let i = 0; i < count; i++) {
    p = readVarint32(frame, p, payloadStart, st);
    if (p < 0) return fail(st, 'truncated THeader transform list');
    if (varintOut.value !== THEADER_TRANSFORM_ZLIB) {
      return fail(st, `unsupported THeader transform ${varintOut.value}`);
    }
    transforms.push(varintOut.value);
  }
  out.flags = frame.readUInt16BE(6);
  out.seqid = frame.readUInt32BE(8);
  out.protocolId = protocolId;
  out.transforms = transforms;
  out.infoStart = p;
  out.payloadStart = payloadStart;
  return payloadStart;
}

/** The protocol a THeader protocol id stands for. */
export function protocolOfId(id: number): ThriftProtocol {
  return id === THEADER_PROTOCOL_COMPACT ? 'compact' : 'binary';
}

/** The THeader protocol id of a protocol. */
export function idOfProtocol(protocol: ThriftProtocol): number {
  return protocol === 'compact' ? THEADER_PROTOCOL_COMPACT : THEADER_PROTOCOL_BINARY;
}

/** Info headers of a frame, and where the blocks this codec does not know begin. */
export interface InfoHeaders {
  headers: Array<[string, string]>;
  /** Offset of the first unknown info block, or the payload start when there is none. */
  tailStart: number;
}

/**
 * Reads the KEYVALUE info blocks. Like the Apache readers it stops at padding (id 0) or at the
 * first unknown block; a malformed block ends the list rather than failing, because these are
 * optional annotations and the frame itself was already accepted.
 */
export function readInfoHeaders(frame: Buffer, layout: THeaderLayout, st: ScanState): InfoHeaders {
  const headers: Array<[string, string]> = [];
  const end = layout.payloadStart;
  let p = layout.infoStart;
  while (p < end) {
    const blockStart = p;
    p = readVarint32(frame, p, end, st);
    if (p < 0 || varintOut.value === 0) return { headers, tailStart: end };
    if (varintOut.value !== THEADER_INFO_KEYVALUE) return { headers, tailStart: blockStart };
    p = readVarint32(frame, p, end, st);
    if (p < 0) return { headers, tailStart: end };
    const count = varintOut.value;
    for (let i = 0; i < count; i++) {
      p = readVarint32(frame, p, end, st);
      if (p < 0 || p + varintOut.value > end) return { headers, tailStart: end };
      const key = frame.toString('utf8', p, p + varintOut.value);
      p += varintOut.value;
      p = readVarint32(frame, p, end, st);
      if (p < 0 || p + varintOut.value > end) return { headers, tailStart: end };
      const value = frame.toString('utf8', p, p + varintOut.value);
      p += varintOut.value;
      headers.push([key, value]);
    }
  }
  return { headers, tailStart: end };
}

/** Everything needed to write a THeader frame. */
export interface THeaderFrameParts {
  flags: number;
  seqid: number;
  protocolId: number;
  transforms: readonly number[];
  headers: Iterable<readonly [string, string]>;
  /** Raw info blocks this codec does not understand, kept as they were (may end in padding). */
  rawTail: Buffer | null;
  /** The payload as it goes on the wire (already transformed). */
  payload: Buffer;
}

/** Writes a complete THeader frame, length prefix included. */
export function buildTHeaderFrame(parts: THeaderFrameParts): Buffer {
  const kv: Buffer[] = [];
  let kvCount = 0;
  for (const [k, v] of parts.headers) {
    const kb = Buffer.from(k, 'utf8');
    const vb = Buffer.from(v, 'utf8');
    const b = Buffer.allocUnsafe(varintLength(kb.length) + kb.length + varintLength(vb.length) + vb.length);
    let o = writeVarint32(b, 0, kb.length);
    o += kb.copy(b, o);
    o = writeVarint32(b, o, vb.length);
    vb.copy(b, o);
    kv.push(b);
    kvCount++;
  }
  let varLen = varintLength(parts.protocolId) + varintLength(parts.transforms.length);
  for (const t of parts.transforms) varLen += varintLength(t);
  if (kvCount > 0) {
    varLen += varintLength(THEADER_INFO_KEYVALUE) + varintLength(kvCount);
    for (const b of kv) varLen += b.length;
  }
  const tail = parts.rawTail ?? Buffer.alloc(0);
  varLen += tail.length;
  const words = Math.ceil(varLen / 4);
  if (words > 0xffff) throw new RangeError('THeader header exceeds 65535 words');
  const payloadStart = THEADER_FIXED_SIZE + words * 4;
  const frame = Buffer.alloc(payloadStart + parts.payload.length);
  frame.writeUInt32BE(frame.length - 4, 0);
  frame.writeUInt16BE(THEADER_MAGIC, 4);
  frame.writeUInt16BE(parts.flags & 0xffff, 6);
  frame.writeUInt32BE(parts.seqid >>> 0, 8);
  frame.writeUInt16BE(words, 12);
  let o = writeVarint32(frame, THEADER_FIXED_SIZE, parts.protocolId);
  o = writeVarint32(frame, o, parts.transforms.length);
  for (const t of parts.transforms) o = writeVarint32(frame, o, t);
  if (kvCount > 0) {
    o = writeVarint32(frame, o, THEADER_INFO_KEYVALUE);
    o = writeVarint32(frame, o, kvCount);
    for (const b of kv) o += b.copy(frame, o);
  }
  tail.copy(frame, o);
  // Buffer.alloc zero-fills, which is the padding the format asks for.
  parts.payload.copy(frame, payloadStart);
  return frame;
}

/**
 * Undoes the payload transforms (zlib only). Returns the plain payload or a reason string.
 * The output is capped at `maxSize` so a small compressed frame cannot inflate into gigabytes.
 */
export function untransformPayload(payload: Buffer, transforms: readonly number[], maxSize: number): Buffer | string {
  let data = payload;
  for (let i = transforms.length - 1; i >= 0; i--) {
    try {
      data = inflateSync(data, { maxOutputLength: Math.max(1, maxSize) });
    } catch (e) {
      return `zlib transform: ${(e as Error).message}`;
    }
  }
  return data;
}

/** Applies the payload transforms (zlib only) in order. */
export function transformPayload(payload: Buffer, transforms: readonly number[]): Buffer {
  let data = payload;
  for (let i = 0; i < transforms.length; i++) data = deflateSync(data);
  return data;
}

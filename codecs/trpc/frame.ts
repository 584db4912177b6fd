/** Building and re-framing tRPC frames: 16-byte fixed header + protobuf header + rest. */
import { HEADER_SIZE, MAGIC, Offset } from './constants.js';

/** The fixed-header fields a frame is built from. */
export interface FixedHeader {
  dataFrameType: number;
  streamFrameType: number;
  /** The u32 at offset 10: stream id, or request id for trpc-go v1 unary frames. */
  streamId: number;
  version: number;
}

/** Largest protobuf header the u16 header_len can describe. */
export const MAX_PB_HEADER = 0xffff;

/**
 * A frame: fixed header, `pbHeader` (its length in header_len, 0 for stream frames whose
 * meta goes in `rest`), then `rest` (body + attachment, or the stream frame's meta/data).
 */
export function buildFrame(head: FixedHeader, pbHeader: Uint8Array | null, rest: Uint8Array | null): Buffer {
  const headerLen = pbHeader === null ? 0 : pbHeader.length;
  if (headerLen > MAX_PB_HEADER) throw new RangeError(`tRPC: protobuf header of ${headerLen} bytes exceeds 65535`);
  const restLen = rest === null ? 0 : rest.length;
  const frame = Buffer.allocUnsafe(HEADER_SIZE + headerLen + restLen);
  frame.writeUInt16BE(MAGIC, 0);
  frame[Offset.DataFrameType] = head.dataFrameType;
  frame[Offset.StreamFrameType] = head.streamFrameType;
  frame.writeUInt32BE(frame.length, Offset.TotalSize);
  frame.writeUInt16BE(headerLen, Offset.HeaderSize);
  frame.writeUInt32BE(head.streamId >>> 0, Offset.StreamId);
  frame[Offset.Version] = head.version;
  frame[Offset.Reserved] = 0;
  if (pbHeader !== null) frame.set(pbHeader, HEADER_SIZE);
  if (rest !== null) frame.set(rest, HEADER_SIZE + headerLen);
  return frame;
}

/** header_len of a complete frame. */
export function pbHeaderSizeOf(frame: Buffer): number {
  return frame.readUInt16BE(Offset.HeaderSize);
}

/**
 * `frame` with its protobuf header replaced by `pbHeader`: the fixed header is copied
 * (magic, types, id, version, reserved) with header_len and total_len rewritten, and the
 * body and attachment are kept.
 */
export function replacePbHeader(frame: Buffer, pbHeader: Uint8Array): Buffer {
  if (pbHeader.length > MAX_PB_HEADER) throw new RangeError(`tRPC: protobuf header of ${pbHeader.length} bytes exceeds 65535`);
  const oldEnd = HEADER_SIZE + pbHeaderSizeOf(frame);
  const restLen = frame.length - oldEnd;
  const out = Buffer.allocUnsafe(HEADER_SIZE + pbHeader.length + restLen);
  frame.copy(out, 0, 0, HEADER_SIZE);
  out.writeUInt32BE(out.length, Offset.TotalSize);
  out.writeUInt16BE(pbHeader.length, Offset.HeaderSize);
  out.set(pbHeader, HEADER_SIZE);
  frame.copy(out, HEADER_SIZE + pbHeader.length, oldEnd);
  return out;
}

/** `frame` (a stream frame) with everything after the fixed header replaced by `meta`. */
export function replaceStreamMeta(frame: Buffer, meta: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + meta.length);
  frame.copy(out, 0, 0, HEADER_SIZE);
  out.writeUInt32BE(out.length, Offset.TotalSize);
  out.set(meta, HEADER_SIZE);
  return out;
}

/** Building and re-framing bRPC frames: 12-byte header + meta + payload/attachment. */
import { HEADER_SIZE, MAGIC_RPC } from './constants.js';

/** A frame `magic | body_size | meta_size | meta | rest` (rest = payload + attachment). */
export function buildFrame(meta: Uint8Array, rest: Uint8Array | null, magic: Buffer = MAGIC_RPC): Buffer {
  const restLength = rest === null ? 0 : rest.length;
  const frame = Buffer.allocUnsafe(HEADER_SIZE + meta.length + restLength);
  magic.copy(frame, 0, 0, 4);
  frame.writeUInt32BE(meta.length + restLength, 4);
  frame.writeUInt32BE(meta.length, 8);
  frame.set(meta, HEADER_SIZE);
  if (rest !== null) frame.set(rest, HEADER_SIZE + meta.length);
  return frame;
}

/** Meta size recorded in a complete frame's header. */
export function metaSizeOf(frame: Buffer): number {
  return frame.readUInt32BE(8);
}

/**
 * `frame` with its meta replaced by `meta`, keeping magic, payload and attachment, and
 * rewriting both size fields (the varint edits that get here change the meta's length).
 */
export function reframe(frame: Buffer, meta: Uint8Array): Buffer {
  const oldMetaEnd = HEADER_SIZE + metaSizeOf(frame);
  return buildFrame(meta, frame.subarray(oldMetaEnd), frame.subarray(0, 4));
}

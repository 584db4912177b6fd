/**
 * Tern, a small invented RPC protocol: the wire layout, and plain functions to build and
 * read frames (the demo client and server use these; the codec reads frames itself).
 *
 * ```
 * offset  size  field
 *  0      2     magic "TN" (0x54 0x4e)
 *  2      1     version (1)
 *  3      1     flags: 0x01 response, 0x02 one-way, 0x04 heartbeat, 0x08 error
 *  4      4     request id (uint32, big-endian)
 *  8      4     frame length, the whole frame (uint32, big-endian)
 * 12      2     header length, the bytes of the header section (uint16, big-endian)
 * 14      …     header section: service, method (each a string: uint16 length + UTF-8),
 *               then a uint8 count of key/value string pairs (the frame's headers)
 *  …      …     body (opaque bytes) up to the frame length
 * ```
 */

export const MAGIC = Buffer.from('TN', 'latin1');
export const VERSION = 1;
/** Size of the fixed part before the header section. */
export const FIXED_SIZE = 14;

export const Offset = { Flags: 3, RequestId: 4, FrameLength: 8, HeaderLength: 12 } as const;

export const Flag = { Response: 0x01, Oneway: 0x02, Heartbeat: 0x04, Error: 0x08 } as const;

/** A Tern frame, as the demo programs see it. */
export interface TernFrame {
  flags: number;
  requestId: number;
  service: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
}

function stringSize(s: string): number {
  return 2 + Buffer.byteLength(s);
}

function writeString(buf: Buffer, at: number, s: string): number {
  const n = buf.write(s, at + 2, 'utf8');
  buf.writeUInt16BE(n, at);
  return at + 2 + n;
}

/** The header section for `service`, `method` and `headers`. */
export function encodeHeaderSection(service: string, method: string, headers: Iterable<readonly [string, string]>): Buffer {
  const pairs = [...headers];
  if (pairs.length > 255) throw new RangeError('tern: at most 255 headers');
  let size = stringSize(service) + stringSize(method) + 1;
  for (const [k, v] of pairs) size += stringSize(k) + stringSize(v);
  const out = Buffer.allocUnsafe(size);
  let at = writeString(out, 0, service);
  at = writeString(out, at, method);
  out[at++] = pairs.length;
  for (const [k, v] of pairs) at = writeString(out, writeString(out, at, k), v);
  return out;
}

/** A complete frame: fixed part, `header` section, `body`. */
export function assembleFrame(flags: number, requestId: number, header: Buffer, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FIXED_SIZE + header.length + body.length);
  MAGIC.copy(out, 0);
  out[2] = VERSION;
  out[Offset.Flags] = flags;
  out.writeUInt32BE(requestId >>> 0, Offset.RequestId);
  out.writeUInt32BE(out.length, Offset.FrameLength);
  out.writeUInt16BE(header.length, Offset.HeaderLength);
  header.copy(out, FIXED_SIZE);
  out.set(body, FIXED_SIZE + header.length);
  return out;
}

/** Builds a frame from its parts. */
export function encodeFrame(f: TernFrame): Buffer {
  return assembleFrame(f.flags, f.requestId, encodeHeaderSection(f.service, f.method, Object.entries(f.headers)), f.body);
}

/**
 * Reads the strings of a header section (`buf[start, end)`), calling `visit` for service,
 * method and each pair. Returns false when the section is malformed.
 */
export function readHeaderSection(buf: Buffer, start: number, end: number, visit: (service: string, method: string, pairs: [string, string][]) => void): boolean {
  let at = start;
  const str = (): string | undefined => {
    if (at + 2 > end) return undefined;
    const n = buf.readUInt16BE(at);
    if (at + 2 + n > end) return undefined;
    const s = buf.toString('utf8', at + 2, at + 2 + n);
    at += 2 + n;
    return s;
  };
  const service = str();
  const method = str();
  if (service === undefined || method === undefined || at >= end) return false;
  const count = buf[at++]!;
  const pairs: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const k = str();
    const v = str();
    if (k === undefined || v === undefined) return false;
    pairs.push([k, v]);
  }
  if (at !== end) return false;
  visit(service, method, pairs);
  return true;
}

/** Parses one complete frame (the demo's reader); throws on malformed bytes. */
export function decodeFrame(buf: Buffer): TernFrame {
  if (buf.length < FIXED_SIZE || buf[0] !== MAGIC[0] || buf[1] !== MAGIC[1]) throw new Error('tern: not a Tern frame');
  const headerEnd = FIXED_SIZE + buf.readUInt16BE(Offset.HeaderLength);
  const frame: TernFrame = { flags: buf[Offset.Flags]!, requestId: buf.readUInt32BE(Offset.RequestId), service: '', method: '', headers: {}, body: buf.subarray(headerEnd) };
  const ok = readHeaderSection(buf, FIXED_SIZE, headerEnd, (service, method, pairs) => {
    frame.service = service;
    frame.method = method;
    frame.headers = Object.fromEntries(pairs);
  });
  if (!ok) throw new Error('tern: malformed header section');
  return frame;
}

/** Cuts complete frames off the front of `pending`; returns them and the rest. */
export function splitFrames(pending: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let at = 0;
  while (pending.length - at >= FIXED_SIZE) {
    const len = pending.readUInt32BE(at + Offset.FrameLength);
    if (len < FIXED_SIZE) throw new Error('tern: bad frame length');
    if (pending.length - at < len) break;
    frames.push(pending.subarray(at, at + len));
    at += len;
  }
  return { frames, rest: pending.subarray(at) };
}

// Protobuf wire-format pieces for hand-built bRPC and tRPC frames: enough to write the few
// header fields the bench sends and a payload message `{ 1: string }` sized to the byte.
import { fitLengthDelimited, varintSize, writeVarint, writeVarintWidth } from './varint.ts';

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

/** One field to encode: a varint (written at `width` bytes when given) or bytes/a nested message. */
export type PbField =
  | { readonly no: number; readonly varint: number; readonly width?: number }
  | { readonly no: number; readonly bytes: Buffer | string };

function fieldSize(f: PbField): number {
  if ('varint' in f) return varintSize(f.no << 3) + (f.width ?? varintSize(f.varint));
  const n = Buffer.byteLength(f.bytes);
  return varintSize((f.no << 3) | WIRE_LENGTH_DELIMITED) + varintSize(n) + n;
}

export function encodeMessage(fields: readonly PbField[]): Buffer {
  const out = Buffer.allocUnsafe(fields.reduce((a, f) => a + fieldSize(f), 0));
  let off = 0;
  for (const f of fields) {
    if ('varint' in f) {
      off = writeVarint(out, off, (f.no << 3) | WIRE_VARINT);
      off = writeVarintWidth(out, off, f.varint, f.width ?? varintSize(f.varint));
    } else {
      const bytes = typeof f.bytes === 'string' ? Buffer.from(f.bytes) : f.bytes;
      off = writeVarint(out, off, (f.no << 3) | WIRE_LENGTH_DELIMITED);
      off = writeVarint(out, off, bytes.length);
      off += bytes.copy(out, off);
    }
  }
  return out;
}

/** `{ 1: "xxx..." }` taking exactly `size` bytes (its length varint padded where sizes do not land), or null when size < 2. */
export function stringMessageOfSize(size: number): Buffer | null {
  const fit = fitLengthDelimited(size, 1);
  if (fit === null) return null;
  const out = Buffer.alloc(size, 0x78);
  out[0] = (1 << 3) | WIRE_LENGTH_DELIMITED;
  writeVarintWidth(out, 1, fit.length, fit.width);
  return out;
}

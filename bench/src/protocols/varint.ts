// Base-128 varints (protobuf, Thrift compact) written at a chosen width. A length or id that
// must keep its encoded size whatever its value is written non-canonically, padded with
// continuation bytes; protobuf and Thrift decoders accept that, and it lets the bench size
// frames to the byte.

/** Bytes of the canonical (shortest) encoding of a non-negative integer below 2^53. */
export function varintSize(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

/** Writes `value` in exactly `width` bytes (width >= varintSize(value)); returns the offset after it. */
export function writeVarintWidth(buf: Buffer, off: number, value: number, width: number): number {
  if (width < varintSize(value)) throw new RangeError(`varint ${value} does not fit ${width} bytes`);
  for (let i = 0; i < width - 1; i++) {
    buf[off++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  buf[off++] = value;
  return off;
}

/** Writes `value` canonically; returns the offset after it. */
export function writeVarint(buf: Buffer, off: number, value: number): number {
  return writeVarintWidth(buf, off, value, varintSize(value));
}

/** Reads a varint at `off` (at most 10 bytes); returns [value, offset after] or null when cut short. */
export function readVarint(buf: Buffer, off: number, end: number): [number, number] | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && off < end; i++) {
    const b = buf[off++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, off];
    scale *= 0x80;
  }
  return null;
}

/**
 * A length-delimited field `tag len bytes` whose whole encoding takes exactly `total` bytes:
 * returns the content length and the width of its length varint, or null when `total` is too
 * small for even an empty field.
 */
export function fitLengthDelimited(total: number, tagSize: number): { length: number; width: number } | null {
  const room = total - tagSize;
  if (room < 1) return null;
  // The canonical width of the largest content that could fit; one byte wider when no content
  // length lands exactly (e.g. room 130: 128 bytes need a 2-byte length, 1 + 127 is 128).
  for (let width = 1; width <= 5; width++) {
    const length = room - width;
    if (length < 0) return null;
    if (varintSize(length) <= width) return { length, width };
  }
  return null;
}

/**
 * Framers for the common ways a protocol marks where a frame ends, so that a codec only has
 * to read its header: a length field in a fixed header, a varint length prefix, or a
 * delimiter. Each framer cuts whole frames out of a {@link FrameReader} (zero-copy when a
 * frame sits in one chunk) and reports bad input as a {@link CodecError} value.
 */
import { CodecError } from './errors.js';
import type { FrameReader } from './frame-reader.js';

/** What a framer returns: a complete frame, `undefined` (need more bytes), or an error. */
export type FrameResult = Buffer | undefined | CodecError;

/** Cuts frames from a reader. Framers may keep state between calls (one per connection). */
export interface Framer {
  /** The next complete frame, consumed from `reader`; `undefined` leaves `reader` untouched. */
  next(reader: FrameReader): FrameResult;
}

/** What the value of a length field counts. */
export type LengthCounts =
  /** The whole frame, header and length field included. */
  | 'frame'
  /** Everything after the length field. */
  | 'after-length'
  /** Everything after the fixed header (the body). */
  | 'after-header';

/** The layout of a fixed header that holds the frame's length. */
export interface FixedHeaderLayout {
  /** Bytes every frame starts with (checked as soon as they arrive), if any. */
  magic?: Uint8Array;
  /** Size of the fixed header; no frame is shorter. */
  headerSize: number;
  /** Offset of the length field inside the header. */
  lengthOffset: number;
  /** Size of the length field in bytes. */
  lengthSize: 1 | 2 | 4;
  /** Byte order of the length field (default big-endian, network order). */
  littleEndian?: boolean;
  /** What the length counts. */
  lengthCounts: LengthCounts;
}

function readLength(reader: FrameReader, offset: number, size: 1 | 2 | 4, littleEndian: boolean): number {
  if (!littleEndian) {
    if (size === 4) return reader.uint32BE(offset);
    if (size === 2) return reader.uint16BE(offset);
    return reader.byteAt(offset);
  }
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + reader.byteAt(offset + i);
  return value;
}

/**
 * Frames that start with a fixed header holding their length (Dubbo, tRPC, bRPC, most
 * private binary protocols): `new FixedHeaderFramer({ magic, headerSize: 16, lengthOffset:
 * 12, lengthSize: 4, lengthCounts: 'after-header' }, ctx.maxFrameSize)`.
 */
export class FixedHeaderFramer implements Framer {
  readonly #layout: Required<FixedHeaderLayout>;
  readonly #maxFrameSize: number;
  /** Added to the length value to get the whole frame's size. */
  readonly #lengthToFrame: number;

  constructor(layout: FixedHeaderLayout, maxFrameSize: number) {
    const lengthEnd = layout.lengthOffset + layout.lengthSize;
    if (lengthEnd > layout.headerSize) throw new RangeError(`length field [${layout.lengthOffset}, ${lengthEnd}) lies outside the ${layout.headerSize}-byte header`);
    if (layout.magic !== undefined && layout.magic.length > layout.headerSize) throw new RangeError('magic is longer than the header');
    this.#layout = { magic: new Uint8Array(0), littleEndian: false, ...layout };
    this.#maxFrameSize = maxFrameSize;
    this.#lengthToFrame = layout.lengthCounts === 'frame' ? 0 : layout.lengthCounts === 'after-length' ? lengthEnd : layout.headerSize;
  }

  next(reader: FrameReader): FrameResult {
    const layout = this.#layout;
    const available = reader.length;
    const magic = layout.magic;
    for (let i = 0; i < magic.length && i < available; i++) {
      if (reader.byteAt(i) !== magic[i]) return new CodecError(`bad magic: byte ${i} is 0x${reader.byteAt(i).toString(16)}, expected 0x${magic[i]!.toString(16)}`, 'MELTEMI_ERR_BAD_MAGIC');
    }
    if (available < layout.headerSize) return undefined;
    const size = readLength(reader, layout.lengthOffset, layout.lengthSize, layout.littleEndian) + this.#lengthToFrame;
    if (size < layout.headerSize) return new CodecError(`frame length ${size} is shorter than the ${layout.headerSize}-byte header`);
    if (size > this.#maxFrameSize) return new CodecError(`frame of ${size} bytes exceeds ${this.#maxFrameSize}`, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    if (available < size) return undefined;
    return reader.take(size);
  }
}

/** Varints longer than this cannot hold a frame length (2^35 bytes). */
const MAX_LENGTH_VARINT_BYTES = 5;

/**
 * Frames prefixed by their length as an unsigned LEB128 varint (protobuf's delimited
 * streams). The frame returned includes the prefix; `bodyOffset` of a frame gives where the
 * payload starts.
 */
export class VarintPrefixedFramer implements Framer {
  readonly #maxFrameSize: number;

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize;
  }

  next(reader: FrameReader): FrameResult {
    const available = reader.length;
    let length = 0;
    let mul = 1;
    for (let i = 0; i < MAX_LENGTH_VARINT_BYTES; i++) {
      if (i >= available) return undefined;
      const b = reader.byteAt(i);
      length += (b & 0x7f) * mul;
      if (b < 0x80) {
        const size = i + 1 + length;
        if (size > this.#maxFrameSize) return new CodecError(`frame of ${size} bytes exceeds ${this.#maxFrameSize}`, 'MELTEMI_ERR_FRAME_TOO_LARGE');
        return available < size ? undefined : reader.take(size);
      }
      mul *= 128;
    }
    return new CodecError(`length varint longer than ${MAX_LENGTH_VARINT_BYTES} bytes`);
  }

  /** Offset of the payload in a frame this framer returned (the size of its prefix). */
  static bodyOffset(frame: Buffer): number {
    let i = 0;
    while (i < frame.length && frame[i]! >= 0x80) i++;
    return i + 1;
  }
}

/**
 * Frames that end with a delimiter (`\r\n` for text protocols, a terminator byte). The frame
 * returned includes the delimiter. The framer remembers how far it searched, so a frame
 * arriving in many chunks is scanned once.
 */
export class DelimitedFramer implements Framer {
  readonly #delimiter: Uint8Array;
  readonly #maxFrameSize: number;
  /** Bytes already searched without finding the delimiter's start. */
  #scanned = 0;

  constructor(delimiter: Uint8Array | string, maxFrameSize: number) {
    const d = typeof delimiter === 'string' ? Buffer.from(delimiter, 'utf8') : delimiter;
    if (d.length === 0) throw new RangeError('the delimiter must not be empty');
    this.#delimiter = d;
    this.#maxFrameSize = maxFrameSize;
  }

  next(reader: FrameReader): FrameResult {
    const d = this.#delimiter;
    const available = reader.length;
    const last = available - d.length;
    for (let start = this.#scanned; start <= last; start++) {
      let hit = true;
      for (let j = 0; j < d.length; j++) {
        if (reader.byteAt(start + j) !== d[j]) {
          hit = false;
          break;
        }
      }
      if (hit) {
        this.#scanned = 0;
        const size = start + d.length;
        if (size > this.#maxFrameSize) return new CodecError(`frame of ${size} bytes exceeds ${this.#maxFrameSize}`, 'MELTEMI_ERR_FRAME_TOO_LARGE');
        return reader.take(size);
      }
    }
    this.#scanned = Math.max(0, last + 1);
    if (available > this.#maxFrameSize) {
      return new CodecError(`no delimiter within ${this.#maxFrameSize} bytes`, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    }
    return undefined;
  }
}

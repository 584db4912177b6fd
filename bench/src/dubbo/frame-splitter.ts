// Cuts a TCP byte stream into whole Dubbo frames. Frames that sit inside one chunk are handed
// out in place (no copy); a frame that straddles chunks is copied once into an exact-size buffer
// (DESIGN §6 rule 1), so the bench's own peers do not add allocation noise to the machine.
import { HEADER_SIZE, MAGIC_HI, MAGIC_LO, MAX_BODY } from './frame.ts';

/** Receives one whole frame: `buf[off .. off + length)`. Valid only during the call. */
export type FrameHandler = (buf: Buffer, off: number, length: number) => void;

export class FrameSplitter {
  readonly #onFrame: FrameHandler;
  /** Header bytes of a frame whose first chunk ended before its 16th byte. */
  readonly #header = Buffer.allocUnsafe(HEADER_SIZE);
  #headerFilled = 0;
  /** The frame being assembled across chunks, allocated to its exact size. */
  #frame: Buffer | null = null;
  #frameFilled = 0;

  constructor(onFrame: FrameHandler) {
    this.#onFrame = onFrame;
  }

  /** Feeds one chunk; returns an error message when the stream is not Dubbo, else null. */
  push(chunk: Buffer): string | null {
    let off = 0;
    const end = chunk.length;
    while (off < end) {
      if (this.#frame !== null) {
        const n = Math.min(this.#frame.length - this.#frameFilled, end - off);
        chunk.copy(this.#frame, this.#frameFilled, off, off + n);
        this.#frameFilled += n;
        off += n;
        if (this.#frameFilled === this.#frame.length) {
          const frame = this.#frame;
          this.#frame = null;
          this.#onFrame(frame, 0, frame.length);
        }
        continue;
      }
      if (this.#headerFilled > 0) {
        const n = Math.min(HEADER_SIZE - this.#headerFilled, end - off);
        chunk.copy(this.#header, this.#headerFilled, off, off + n);
        this.#headerFilled += n;
        off += n;
        if (this.#headerFilled < HEADER_SIZE) return null;
        this.#headerFilled = 0;
        const err = this.#startFrame(this.#header, 0);
        if (err !== null) return err;
        continue;
      }
      const available = end - off;
      if (available < HEADER_SIZE) {
        chunk.copy(this.#header, 0, off, end);
        this.#headerFilled = available;
        return null;
      }
      const bodyLength = bodyLengthAt(chunk, off);
      if (bodyLength < 0) return badHeader(chunk, off);
      const total = HEADER_SIZE + bodyLength;
      if (available >= total) {
        this.#onFrame(chunk, off, total);
        off += total;
        continue;
      }
      this.#frame = Buffer.allocUnsafe(total);
      chunk.copy(this.#frame, 0, off, end);
      this.#frameFilled = available;
      return null;
    }
    return null;
  }

  /** Begins assembling a frame whose header sits complete in `header`. */
  #startFrame(header: Buffer, off: number): string | null {
    const bodyLength = bodyLengthAt(header, off);
    if (bodyLength < 0) return badHeader(header, off);
    const frame = Buffer.allocUnsafe(HEADER_SIZE + bodyLength);
    header.copy(frame, 0, off, off + HEADER_SIZE);
    if (bodyLength === 0) {
      this.#onFrame(frame, 0, frame.length);
    } else {
      this.#frame = frame;
      this.#frameFilled = HEADER_SIZE;
    }
    return null;
  }
}

/** Body length from a header, or -1 when the magic or the length is wrong. */
function bodyLengthAt(buf: Buffer, off: number): number {
  if (buf[off] !== MAGIC_HI || buf[off + 1] !== MAGIC_LO) return -1;
  const n = buf.readUInt32BE(off + 12);
  return n > MAX_BODY ? -1 : n;
}

function badHeader(buf: Buffer, off: number): string {
  return `not a Dubbo frame header: ${buf.subarray(off, off + HEADER_SIZE).toString('hex')}`;
}

// Cuts a TCP byte stream into whole frames for any protocol whose fixed-size header holds the
// frame length (Dubbo, framed Thrift, bRPC, tRPC). Frames inside one chunk are handed out in
// place (no copy); a frame that straddles chunks is copied once into an exact-size buffer, so
// the bench's own peers add little allocation noise to the machine they share with the proxy.

/** Receives one whole frame: `buf[off .. off + length)`. Valid only during the call. */
export type FrameHandler = (buf: Buffer, off: number, length: number) => void;

export interface LengthFraming {
  /** Bytes needed to know the frame length. */
  readonly headerSize: number;
  /** Total frame length from the header at `buf[off..]`, or -1 when the header is not this protocol. */
  frameLength(buf: Buffer, off: number): number;
  /** Protocol name for error messages. */
  readonly protocol: string;
}

/** Refuse frames above this so a corrupt length cannot make us allocate gigabytes. */
export const MAX_FRAME = 16 * 1024 * 1024;

export class LengthSplitter {
  readonly #framing: LengthFraming;
  readonly #header: Buffer;
  #headerFilled = 0;
  /** The frame being assembled across chunks, allocated to its exact size. */
  #frame: Buffer | null = null;
  #frameFilled = 0;

  constructor(framing: LengthFraming) {
    this.#framing = framing;
    this.#header = Buffer.allocUnsafe(framing.headerSize);
  }

  /** Feeds one chunk; returns an error message when the stream is not the protocol, else null. */
  push(chunk: Buffer, onFrame: FrameHandler): string | null {
    const headerSize = this.#framing.headerSize;
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
          onFrame(frame, 0, frame.length);
        }
        continue;
      }
      if (this.#headerFilled > 0) {
        const n = Math.min(headerSize - this.#headerFilled, end - off);
        chunk.copy(this.#header, this.#headerFilled, off, off + n);
        this.#headerFilled += n;
        off += n;
        if (this.#headerFilled < headerSize) return null;
        this.#headerFilled = 0;
        const total = this.#length(this.#header, 0);
        if (total < 0) return this.#bad(this.#header, 0);
        this.#frame = Buffer.allocUnsafe(total);
        this.#header.copy(this.#frame, 0);
        this.#frameFilled = headerSize;
        if (total === headerSize) {
          const frame = this.#frame;
          this.#frame = null;
          onFrame(frame, 0, total);
        }
        continue;
      }
      const available = end - off;
      if (available < headerSize) {
        chunk.copy(this.#header, 0, off, end);
        this.#headerFilled = available;
        return null;
      }
      const total = this.#length(chunk, off);
      if (total < 0) return this.#bad(chunk, off);
      if (available >= total) {
        onFrame(chunk, off, total);
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

  #length(buf: Buffer, off: number): number {
    const n = this.#framing.frameLength(buf, off);
    return n < this.#framing.headerSize || n > MAX_FRAME ? -1 : n;
  }

  #bad(buf: Buffer, off: number): string {
    return `not a ${this.#framing.protocol} frame header: ${buf.subarray(off, off + this.#framing.headerSize).toString('hex')}`;
  }
}

/**
 * A queue of received chunks that codecs read frames from.
 *
 * Bytes are never concatenated per chunk: a frame that sits inside one chunk is returned
 * as a zero-copy `subarray`, and a frame that straddles chunks is copied exactly once
 * into a buffer of the frame's size (DESIGN.md §6 rule 1).
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  /** Read offset into `#chunks[0]`. */
  #offset = 0;
  #length = 0;
  /** peekRange's cursor: chunk index and the reader index of that chunk's first unread byte. */
  #cursorChunk = 0;
  #cursorAt = 0;

  /** Number of unread bytes. */
  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Drops every buffered byte (the connection is closing). */
  clear(): void {
    this.#chunks = [];
    this.#offset = 0;
    this.#length = 0;
    this.#resetCursor();
  }

  #resetCursor(): void {
    this.#cursorChunk = 0;
    this.#cursorAt = 0;
  }

  /** Byte at `index` (relative to the read position); the caller checks `length` first. */
  byteAt(index: number): number {
    let i = index + this.#offset;
    for (const chunk of this.#chunks) {
      if (i < chunk.length) return chunk[i]!;
      i -= chunk.length;
    }
    throw new RangeError(`FrameReader.byteAt(${index}) past end (${this.#length} bytes)`);
  }

  uint16BE(index: number): number {
    const first = this.#chunks[0];
    const at = index + this.#offset;
    if (first !== undefined && at + 2 <= first.length) return first.readUInt16BE(at);
    return (this.byteAt(index) << 8) | this.byteAt(index + 1);
  }

  uint32BE(index: number): number {
    const first = this.#chunks[0];
    const at = index + this.#offset;
    if (first !== undefined && at + 4 <= first.length) return first.readUInt32BE(at);
    return (
      this.byteAt(index) * 0x1000000 +
      ((this.byteAt(index + 1) << 16) | (this.byteAt(index + 2) << 8) | this.byteAt(index + 3))
    );
  }

  /**
   * Returns a view of the first `n` unread bytes without consuming them. When they span
   * chunks, the chunks are merged once so later peeks are cheap.
   */
  peek(n: number): Buffer {
    if (n > this.#length) throw new RangeError(`FrameReader.peek(${n}) with ${this.#length} bytes`);
    const first = this.#chunks[0];
    if (first !== undefined && this.#offset + n <= first.length) {
      return first.subarray(this.#offset, this.#offset + n);
    }
    const merged = this.#copyOut(n, false);
    // Replace the merged prefix by one chunk so the bytes are copied only once.
    this.#unshiftMerged(merged);
    return merged;
  }

  /**
   * Bytes [from, to) of the unread bytes, without consuming or merging anything: a view when
   * they sit in one chunk, else a copy of just that range. For a codec that resumes a scan
   * where it stopped; ranges that move forward are located in amortised constant time.
   */
  peekRange(from: number, to: number): Buffer {
    if (from < 0 || to > this.#length || from > to) throw new RangeError(`FrameReader.peekRange(${from}, ${to}) with ${this.#length} bytes`);
    if (from === to) return Buffer.alloc(0);
    if (from < this.#cursorAt) {
      this.#cursorChunk = 0;
      this.#cursorAt = 0;
    }
    let idx = this.#cursorChunk;
    let at = this.#cursorAt;
    for (;;) {
      const avail = this.#chunks[idx]!.length - (idx === 0 ? this.#offset : 0);
      if (from < at + avail || at + avail === this.#length) break;
      at += avail;
      idx++;
    }
    this.#cursorChunk = idx;
    this.#cursorAt = at;
    const chunk = this.#chunks[idx]!;
    const start = (idx === 0 ? this.#offset : 0) + (from - at);
    if (start + (to - from) <= chunk.length) return chunk.subarray(start, start + (to - from));
    const out = Buffer.allocUnsafe(to - from);
    let written = chunk.copy(out, 0, start);
    for (let i = idx + 1; written < out.length; i++) written += this.#chunks[i]!.copy(out, written, 0, Math.min(this.#chunks[i]!.length, out.length - written));
    return out;
  }

  /** Removes and returns the first `n` bytes (zero-copy when they sit in one chunk). */
  take(n: number): Buffer {
    if (n > this.#length) throw new RangeError(`FrameReader.take(${n}) with ${this.#length} bytes`);
    const first = this.#chunks[0];
    if (first !== undefined && this.#offset + n <= first.length) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#advance(n);
      return out;
    }
    return this.#copyOut(n, true);
  }

  /** Discards the first `n` bytes. */
  skip(n: number): void {
    if (n > this.#length) throw new RangeError(`FrameReader.skip(${n}) with ${this.#length} bytes`);
    this.#advance(n);
  }

  #advance(n: number): void {
    this.#resetCursor();
    this.#length -= n;
    let left = n;
    while (left > 0) {
      const first = this.#chunks[0]!;
      const avail = first.length - this.#offset;
      if (left < avail) {
        this.#offset += left;
        return;
      }
      left -= avail;
      this.#chunks.shift();
      this.#offset = 0;
    }
    if (this.#chunks.length > 0 && this.#offset === this.#chunks[0]!.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }

  #copyOut(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    let idx = 0;
    let off = this.#offset;
    while (written < n) {
      const chunk = this.#chunks[idx]!;
      const copied = chunk.copy(out, written, off, Math.min(chunk.length, off + n - written));
      written += copied;
      idx++;
      off = 0;
    }
    if (consume) this.#advance(n);
    return out;
  }

  #unshiftMerged(merged: Buffer): void {
    this.#resetCursor();
    const n = merged.length;
    this.#advance(n);
    this.#length += n;
    if (this.#offset > 0) {
      this.#chunks[0] = this.#chunks[0]!.subarray(this.#offset);
      this.#offset = 0;
    }
    this.#chunks.unshift(merged);
  }
}

import type { WriteQueue } from '../net/write-queue.js';

/**
 * The reply backlog of one client connection: the bytes of replies not yet sent to it
 * (its write queue and socket buffer) plus a guess at the replies it is still owed (its
 * requests in flight times the size of its last reply). A client that never reads its
 * replies would otherwise make the proxy hold them all: the connection stops being read
 * while the backlog is over the high watermark and resumes at the low one (high / 2).
 *
 * Before a connection's first reply its size is unknown; each request in flight then
 * counts as 1/64 of the watermark, so a burst of small requests for large replies is cut
 * at 64 requests until the first answer tells the real size.
 *
 * An instance exists only while the connection is paused for its backlog.
 */
export class ReplyBacklog {
  readonly #out: WriteQueue;
  readonly #low: number;
  readonly #onCleared: () => void;
  readonly #owed: () => number;
  readonly #watch = (): void => this.watch();
  #cleared = false;

  /** The guess at the bytes of `inflight` replies still to come. */
  static owed(inflight: number, lastReplyBytes: number, high: number): number {
    return inflight * (lastReplyBytes === 0 ? high >>> 6 : lastReplyBytes);
  }

  /** True when the connection's backlog is over `high` (checked per request and per reply). */
  static over(out: WriteQueue, inflight: number, lastReplyBytes: number, high: number): boolean {
    return out.pendingBytes + ReplyBacklog.owed(inflight, lastReplyBytes, high) > high;
  }

  constructor(out: WriteQueue, high: number, onCleared: () => void, owed: () => number) {
    this.#out = out;
    this.#low = high >>> 1;
    this.#onCleared = onCleared;
    this.#owed = owed;
  }

  /**
   * Calls `onCleared` once the backlog is at or below the low mark; otherwise waits for the
   * socket to flush enough. Called again when a request in flight ends (the owed part shrinks).
   */
  watch(): void {
    if (this.#cleared) return;
    const owed = this.#owed();
    const pending = this.#out.pendingBytes;
    if (pending + owed <= this.#low) {
      this.#cleared = true;
      this.#onCleared();
      return;
    }
    const target = this.#low - owed;
    // With more owed than the low mark, only answers (then flushes) can clear it.
    if (target >= 0 && !this.#out.waiting) this.#out.notifyAtOrBelow(target, this.#watch);
  }
}

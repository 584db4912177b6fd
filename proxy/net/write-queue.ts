import type { Duplex } from 'node:stream';

/**
 * When a turn's frames average at most this many bytes, they are copied into one buffer and
 * written with one write; larger frames go out as a writev of the frames themselves. Node's
 * writev path costs a queued request object and a callback per chunk, more than copying a few
 * KiB (bench: dubbo 64x8, 8 replies per client and ~500 requests per upstream write a turn).
 */
const COALESCE_MAX_AVERAGE_BYTES = 4 * 1024;

/**
 * Coalesces the frames written to one socket during an event-loop turn into a single
 * write, flushed in the check phase after all readable sockets were handled
 * (DESIGN.md §6 rule 4). One setImmediate serves every queue.
 */
export class WriteQueue {
  readonly socket: Duplex;
  #frames: Buffer[] = [];
  #bytes = 0;
  #scheduled = false;

  constructor(socket: Duplex) {
    this.socket = socket;
  }

  write(frame: Buffer): void {
    this.#frames.push(frame);
    this.#bytes += frame.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      schedule(this);
    }
  }

  /** Bytes waiting in this queue and in the socket's own buffer. */
  get pendingBytes(): number {
    return this.socket.writableLength + this.#bytes;
  }

  flush(): void {
    this.#scheduled = false;
    const frames = this.#frames;
    if (frames.length === 0) return;
    const bytes = this.#bytes;
    this.#frames = [];
    this.#bytes = 0;
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    if (frames.length === 1) {
      socket.write(frames[0]!);
      return;
    }
    if (bytes <= COALESCE_MAX_AVERAGE_BYTES * frames.length) {
      socket.write(Buffer.concat(frames, bytes));
      return;
    }
    socket.cork();
    for (const f of frames) socket.write(f);
    socket.uncork();
  }

  /** Drops frames not yet written (the socket is going away). */
  discard(): void {
    this.#frames = [];
    this.#bytes = 0;
  }
}

let pending: WriteQueue[] = [];
let immediate = false;

function schedule(q: WriteQueue): void {
  pending.push(q);
  if (!immediate) {
    immediate = true;
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  immediate = false;
  const queues = pending;
  pending = [];
  for (const q of queues) q.flush();
}

import type { Duplex } from 'node:stream';

/**
 * Coalesces the frames written to one socket during an event-loop turn into a single
 * write (writev), flushed in the check phase after all readable sockets were handled
 * (DESIGN.md §6 rule 4). One setImmediate serves every queue.
 */
export class WriteQueue {
  readonly socket: Duplex;
  #frames: Buffer[] = [];
  #scheduled = false;

  constructor(socket: Duplex) {
    this.socket = socket;
  }

  write(frame: Buffer): void {
    this.#frames.push(frame);
    if (!this.#scheduled) {
      this.#scheduled = true;
      schedule(this);
    }
  }

  /** Bytes waiting in this queue and in the socket's own buffer. */
  get pendingBytes(): number {
    let n = this.socket.writableLength;
    for (const f of this.#frames) n += f.length;
    return n;
  }

  flush(): void {
    this.#scheduled = false;
    const frames = this.#frames;
    if (frames.length === 0) return;
    this.#frames = [];
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    if (frames.length === 1) {
      socket.write(frames[0]!);
      return;
    }
    socket.cork();
    for (const f of frames) socket.write(f);
    socket.uncork();
  }

  /** Drops frames not yet written (the socket is going away). */
  discard(): void {
    this.#frames = [];
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

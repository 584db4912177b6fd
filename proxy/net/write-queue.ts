import type { Duplex } from 'node:stream';
import { reportFault } from './fault.js';

/**
 * When a turn's frames average at most this many bytes, they are copied into one buffer and
 * written with one write; larger frames go out as a writev of the frames themselves. Node's
 * writev path costs a queued request object and a callback per chunk, more than copying a few
 * KiB (bench: dubbo 64x8, 8 replies per client and ~500 requests per upstream write a turn).
 */
const COALESCE_MAX_AVERAGE_BYTES = 4 * 1024;

/** Written with a callback to learn when what the socket already holds has been flushed. */
const EMPTY = Buffer.alloc(0);

/**
 * Coalesces the frames written to one socket during an event-loop turn into a single
 * write, flushed in the check phase after all readable sockets were handled
 * (DESIGN.md §6 rule 4). One setImmediate serves every queue.
 *
 * Flow control follows the bytes actually flushed (`notifyAtOrBelow`): Node emits 'drain'
 * only after a write() returned false, and a write the kernel takes whole at once returns
 * true, so an owner that waited for 'drain' after one big frame would wait for ever.
 */
export class WriteQueue {
  readonly socket: Duplex;
  #frames: Buffer[] = [];
  #bytes = 0;
  #scheduled = false;
  /** Called once pendingBytes is at or below #low; undefined when nobody waits. */
  #waiter: (() => void) | undefined = undefined;
  #low = 0;
  /** The socket's write callback while a waiter is set (made once, on first need). */
  #onWritten: (() => void) | undefined = undefined;

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

  /**
   * Calls `callback` once, as soon as the bytes still to send (this queue and the socket's
   * buffer) are at or below `low`: at once when they already are, else when the socket
   * hands enough to the kernel. A later call replaces the callback.
   */
  notifyAtOrBelow(low: number, callback: () => void): void {
    this.#low = low;
    this.#waiter = callback;
    if (this.#scheduled) return; // flush() checks, and watches the socket if need be
    if (this.socket.writableLength <= low) this.#check();
    else if (!this.socket.destroyed) this.socket.write(EMPTY, this.#watch());
  }

  /** True while a callback waits for the queue to empty below its mark. */
  get waiting(): boolean {
    return this.#waiter !== undefined;
  }

  #watch(): () => void {
    return (this.#onWritten ??= (): void => this.#check());
  }

  #check(): void {
    const waiter = this.#waiter;
    if (waiter === undefined || this.pendingBytes > this.#low) return;
    this.#waiter = undefined;
    waiter();
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
    // Only a queue someone waits on pays for a write callback.
    const cb = this.#waiter === undefined ? undefined : this.#watch();
    if (frames.length === 1) {
      socket.write(frames[0]!, cb);
    } else if (bytes <= COALESCE_MAX_AVERAGE_BYTES * frames.length) {
      socket.write(Buffer.concat(frames, bytes), cb);
    } else {
      socket.cork();
      const last = frames.length - 1;
      for (let i = 0; i < last; i++) socket.write(frames[i]!);
      socket.write(frames[last]!, cb);
      socket.uncork();
    }
    // The kernel often takes everything at once: then the waiter runs now, not never.
    if (cb !== undefined) this.#check();
  }

  /** Drops frames not yet written (the socket is going away). */
  discard(): void {
    this.#frames = [];
    this.#bytes = 0;
    this.#waiter = undefined;
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
  for (const q of queues) {
    // One socket's failure must not leave every other queue of this turn unflushed.
    try {
      q.flush();
    } catch (err) {
      reportFault('socket write', err);
      q.discard();
      q.socket.destroy();
    }
  }
}

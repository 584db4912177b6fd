import { reportFault } from './fault.js';

/**
 * Request timeouts without a timer per request. Requests with the same timeout expire in
 * the order they were added, so each timeout value keeps a FIFO and one timer is armed
 * for the earliest head. Finished entries are skipped lazily when they reach the head.
 */
export interface Expirable {
  /** True once the request finished: its entry is then ignored. */
  readonly done: boolean;
  expire(): void;
}

class Fifo {
  items: Expirable[] = [];
  deadlines: number[] = [];
  head = 0;

  compact(): void {
    if (this.head > 256 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.deadlines = this.deadlines.slice(this.head);
      this.head = 0;
    }
  }
}

export class DeadlineQueue {
  readonly #fifos = new Map<number, Fifo>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  add(item: Expirable, timeoutMs: number): void {
    let fifo = this.#fifos.get(timeoutMs);
    if (fifo === undefined) {
      fifo = new Fifo();
      this.#fifos.set(timeoutMs, fifo);
    }
    // Finished requests at the head are dropped now, so a FIFO holds roughly the requests
    // in flight rather than everything of the last timeout period.
    while (fifo.head < fifo.items.length && fifo.items[fifo.head]!.done) fifo.head++;
    fifo.compact();
    const deadline = performance.now() + timeoutMs;
    fifo.items.push(item);
    fifo.deadlines.push(deadline);
    if (deadline < this.#timerAt) this.#arm(deadline);
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(at - performance.now())));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [key, fifo] of this.#fifos) {
      while (fifo.head < fifo.items.length) {
        const item = fifo.items[fifo.head]!;
        if (item.done) {
          fifo.head++;
          continue;
        }
        const deadline = fifo.deadlines[fifo.head]!;
        if (deadline > now) {
          next = Math.min(next, deadline);
          break;
        }
        fifo.head++;
        // Items guard their own work; this keeps one that does not from stopping the timer.
        try {
          item.expire();
        } catch (err) {
          reportFault('request timeout', err);
        }
      }
      if (fifo.head === fifo.items.length) this.#fifos.delete(key);
      else fifo.compact();
    }
    if (next !== Infinity) this.#arm(next);
  }

  /** Drops every entry (shutdown). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#fifos.clear();
  }
}

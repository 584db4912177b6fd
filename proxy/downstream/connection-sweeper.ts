import { coarseClock, MAX_LAG_MS, tickCoarseClock } from '../net/coarse-clock.js';

/** Fewest milliseconds between two sweeps, however short the timeouts. */
const MIN_INTERVAL_MS = 25;

/**
 * What the sweep reads of a downstream connection. Times are coarse-clock milliseconds,
 * written on the read path without a timer call; 0 means "not set".
 */
export interface SweptConnection {
  /** When bytes last arrived (Aeraki's idle timer is re-armed by every read). */
  readonly lastReadAt: number;
  /** When the first byte of a frame still incomplete arrived; 0 when no frame is partly read. */
  readonly partialSince: number;
  /** When a drain sent the protocol's go-away frame and kept reading; 0 otherwise. */
  readonly goAwayAt: number;
  /** True while reading is paused (backpressure): a partial frame cannot progress then. */
  readonly readPaused: boolean;
  readonly listener: { readonly idleTimeoutMs: number | undefined; readonly frameReadTimeoutMs: number; readonly drainGraceMs: number };
  onIdleTimeout(): void;
  onFrameReadTimeout(): void;
  /** Ends this one connection after an exception in its own work, counted and logged. */
  closeOnFault(where: string, err: unknown): void;
  /** The go-away grace ended: stop reading and close once idle. */
  onGoAwayGraceOver(): void;
  /** A paused connection's partial frame starts its clock again when reading resumes. */
  restartPartialClock(now: number): void;
}

/** The sweep interval for these timeouts: an eighth of the shortest, within [25, 250] ms. */
export function sweepIntervalMs(timeouts: readonly (number | undefined)[]): number {
  let shortest = MAX_LAG_MS * 8;
  for (const t of timeouts) if (t !== undefined && t > 0 && t < shortest) shortest = t;
  return Math.max(MIN_INTERVAL_MS, Math.min(MAX_LAG_MS, Math.floor(shortest / 8)));
}

/**
 * One coarse periodic sweep over a listener's connections, instead of a timer per connection
 * re-armed per chunk: it ends connections idle past `idle_timeout` (Aeraki's semantics,
 * spec/metaprotocol.md §3.1: re-armed by every read, not by writes), connections whose
 * partly received frame has not completed within `frame_read_timeout` (slow clients), and
 * the go-away grace of draining connections. A timeout fires between its time plus the
 * clock lag and one interval later: never early.
 */
export class ConnectionSweeper {
  readonly #connections: ReadonlySet<SweptConnection>;
  #timer: NodeJS.Timeout | undefined;
  #intervalMs = 0;

  constructor(connections: ReadonlySet<SweptConnection>) {
    this.#connections = connections;
  }

  /** Starts sweeping (or changes the interval of a running sweep). */
  start(intervalMs: number): void {
    if (this.#timer !== undefined && intervalMs === this.#intervalMs) return;
    this.stop();
    this.#intervalMs = intervalMs;
    this.#timer = setInterval(() => this.sweep(tickCoarseClock()), intervalMs);
    this.#timer.unref();
    tickCoarseClock();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * One pass; `now` is the fresh time. A connection it ends leaves the set during the
   * iteration, which a Set allows (the rest are still visited).
   */
  sweep(now: number = coarseClock.now): void {
    // A time read from the coarse clock may be up to MAX_LAG_MS older than the event.
    const since = now - MAX_LAG_MS;
    for (const c of this.#connections) {
      // A timer callback: an exception in one connection's timeout work ends that connection,
      // never the process, and the rest are still swept.
      try {
        sweepOne(c, now, since);
      } catch (err) {
        c.closeOnFault('connection sweep', err);
      }
    }
  }
}

function sweepOne(c: SweptConnection, now: number, since: number): void {
  const l = c.listener;
  if (c.goAwayAt !== 0 && now - c.goAwayAt >= l.drainGraceMs) c.onGoAwayGraceOver();
  const idle = l.idleTimeoutMs;
  if (idle !== undefined && idle > 0 && since - c.lastReadAt >= idle) {
    c.onIdleTimeout();
    return;
  }
  if (c.partialSince === 0 || l.frameReadTimeoutMs === 0) return;
  if (c.readPaused) c.restartPartialClock(now);
  else if (since - c.partialSince >= l.frameReadTimeoutMs) c.onFrameReadTimeout();
}

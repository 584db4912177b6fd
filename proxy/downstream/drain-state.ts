/**
 * Where a downstream connection's drain stands. Kept apart from the connection so that its
 * few flags read as one state machine: not draining → (go-away sent, still reading) →
 * reading stopped, closing once idle → ending.
 */
export class DrainState {
  /** Coarse-clock time the go-away frame was sent while reading goes on; 0 otherwise. */
  goAwayAt = 0;
  /** No more bytes are read: no request is taken after this. */
  readStopped = false;
  /** The socket is being ended. */
  ending = false;

  get started(): boolean {
    return this.goAwayAt !== 0 || this.readStopped;
  }

  /** Close as soon as nothing is in flight. */
  get closeWhenIdle(): boolean {
    return this.readStopped;
  }

  goAwaySent(now: number): void {
    // 0 means "not sent": a clock that reads 0 (never in practice) is nudged.
    this.goAwayAt = now === 0 ? 1 : now;
  }

  stopReading(): void {
    this.readStopped = true;
    this.goAwayAt = 0;
  }

  /** True the first time: the caller ends the socket. */
  startEnding(): boolean {
    if (this.ending) return false;
    this.ending = true;
    this.readStopped = true;
    return true;
  }
}

/**
 * The initial fetch of one resource type, as Envoy's init manager waits for it: over when
 * the first response was answered, or when initial_fetch_timeout passed since the type was
 * first subscribed (0: no timeout). Owners wait on it before they report ready.
 */

/** How the initial fetch ended. */
export type InitialFetchOutcome = 'accepted' | 'rejected' | 'timeout';

export class InitialFetch {
  readonly promise: Promise<InitialFetchOutcome>;
  #resolve!: (o: InitialFetchOutcome) => void;
  #settled = false;
  #timer: NodeJS.Timeout | undefined;

  constructor() {
    this.promise = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The type was subscribed: start the timeout (only the first call counts). */
  start(timeoutMs: number): void {
    if (this.#settled || this.#timer !== undefined || timeoutMs <= 0) return;
    this.#timer = setTimeout(() => this.settle('timeout'), timeoutMs);
    this.#timer.unref();
  }

  settle(outcome: InitialFetchOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.cancelTimer();
    this.#resolve(outcome);
  }

  cancelTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

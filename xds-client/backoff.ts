/**
 * Reconnect delays: exponential with full jitter in [delay/2, delay], as Envoy's
 * JitteredExponentialBackOffStrategy (base 500 ms, cap 30 s by default).
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(baseMs = 500, maxMs = 30_000, random: () => number = Math.random) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#random = random;
  }

  /** The delay before the next attempt; each call doubles the ceiling up to the cap. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#baseMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  /** After a good response: start from the base delay again. */
  reset(): void {
    this.#attempt = 0;
  }
}

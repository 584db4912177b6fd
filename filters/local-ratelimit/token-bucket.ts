/**
 * A token bucket refilled by ticks (Envoy's TokenBucket: max_tokens, tokens_per_fill,
 * fill_interval). It starts full.
 */
export class TokenBucket {
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
  tokens: number;
  #lastFill: number;

  constructor(maxTokens: number, tokensPerFill: number, fillIntervalMs: number, now: number) {
    this.maxTokens = maxTokens;
    this.tokensPerFill = tokensPerFill;
    this.fillIntervalMs = fillIntervalMs;
    this.tokens = maxTokens;
    this.#lastFill = now;
  }

  /** Takes one token; false when the bucket is empty. */
  tryTake(): boolean {
    if (this.tokens <= 0) return false;
    this.tokens--;
    return true;
  }

  /** Catches up on fills due by `now`, then takes one token; false when still empty. */
  tryTakeAfterRefill(now: number): boolean {
    this.refill(now);
    return this.tryTake();
  }

  /** Adds a fill for every whole interval elapsed since the last one. */
  refill(now: number): void {
    const fills = Math.floor((now - this.#lastFill) / this.fillIntervalMs);
    if (fills <= 0) return;
    this.#lastFill += fills * this.fillIntervalMs;
    this.tokens = Math.min(this.maxTokens, this.tokens + fills * this.tokensPerFill);
  }
}

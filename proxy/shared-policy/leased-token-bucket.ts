/**
 * A worker's view of a sidecar-wide token bucket: tokens leased from the primary in blocks.
 * While the lease holds tokens a request is decided synchronously; an empty lease costs one
 * IPC round trip (the requests that arrive meanwhile wait for the same one); an empty bucket
 * is remembered until its next fill, so refusals cost no IPC. Leased tokens lapse at the
 * bucket's next fill: a worker never carries tokens of one period into the next.
 */
import type { SharedTokenBucket, TokenBucketSpec } from '../../filters/api/index.js';
import type { LeaseGrant } from './messages.js';
import type { WorkerChannel } from './worker-channel.js';

/** A lease emptied faster than this asks for a block twice as large next time. */
const FAST_MS = 10;
/** A lease that lasts longer than this asks for a block half as large next time. */
const SLOW_MS = 100;
const MAX_BLOCK = 256;

export class LeasedTokenBucket implements SharedTokenBucket {
  readonly #id: string;
  readonly #spec: TokenBucketSpec;
  readonly #channel: WorkerChannel;
  readonly #now: () => number;
  #tokens = 0;
  #expiresAt = 0;
  #emptyUntil = 0;
  #block = 1;
  #grantedAt: number | undefined;
  #asking = false;
  #sentAt = 0;
  #closed = false;
  readonly #waiters: ((ok: boolean) => void)[] = [];

  constructor(id: string, spec: TokenBucketSpec, channel: WorkerChannel, now: () => number = () => performance.now()) {
    this.#id = id;
    this.#spec = spec;
    this.#channel = channel;
    this.#now = now;
  }

  take(): boolean | Promise<boolean> {
    const now = this.#now();
    if (now < this.#expiresAt) {
      if (this.#tokens > 0) {
        this.#tokens--;
        return true;
      }
    } else {
      this.#tokens = 0;
    }
    if (now < this.#emptyUntil || this.#closed) return false;
    return new Promise<boolean>((resolve) => {
      this.#waiters.push(resolve);
      this.#ask(now);
    });
  }

  close(): void {
    this.#closed = true;
    this.#tokens = 0;
  }

  #ask(now: number): void {
    if (this.#asking) return;
    this.#asking = true;
    // The block adapts to this worker's rate: a lease gone in a moment doubles it, a lease
    // that lasted long halves it (fewer tokens lapse unused at the next fill).
    if (this.#grantedAt !== undefined) {
      const lasted = now - this.#grantedAt;
      if (lasted < FAST_MS) this.#block = Math.min(MAX_BLOCK, this.#block * 2);
      else if (lasted > SLOW_MS) this.#block = Math.max(1, Math.floor(this.#block / 2));
    }
    this.#sentAt = now;
    this.#channel.lease(this.#id, this.#spec, Math.max(this.#block, this.#waiters.length), (g) => this.#onGrant(g));
  }

  #onGrant(g: LeaseGrant): void {
    this.#asking = false;
    // Measured from when the request left: the primary's fill is no earlier than this.
    const until = this.#sentAt + g.validMs;
    const now = this.#now();
    this.#grantedAt = now;
    let tokens = g.tokens;
    if (tokens === 0) {
      this.#emptyUntil = until;
      for (const w of this.#waiters.splice(0)) w(false);
      return;
    }
    while (tokens > 0 && this.#waiters.length > 0) {
      tokens--;
      this.#waiters.shift()?.(true);
    }
    this.#tokens = tokens;
    this.#expiresAt = until;
    if (this.#waiters.length > 0) this.#ask(now);
  }
}

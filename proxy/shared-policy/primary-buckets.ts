/**
 * The primary's token buckets: the sidecar-wide state behind every worker's local rate
 * limit. Workers lease tokens from here in blocks; a lease lapses at the bucket's next fill,
 * so the tokens used in a fill period never exceed what the bucket held.
 */
import type { TokenBucketSpec } from '../../filters/api/index.js';
import type { LeaseGrant, LeaseRequest } from './messages.js';

/** The largest block one lease may take, as a share of the bucket per worker (keeps the bucket fair among workers). */
const SHARE_DIVISOR = 8;
/** A lease block never exceeds this, whatever the bucket's size. */
const MAX_BLOCK = 256;

interface Bucket {
  readonly spec: TokenBucketSpec;
  tokens: number;
  lastFill: number;
}

export class PrimaryBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #workerCount: () => number;
  readonly #now: () => number;

  constructor(workerCount: () => number, now: () => number = () => performance.now()) {
    this.#workerCount = workerCount;
    this.#now = now;
  }

  lease(req: LeaseRequest): LeaseGrant {
    const now = this.#now();
    const b = this.#bucket(req.id, req.spec, now);
    const fills = Math.floor((now - b.lastFill) / b.spec.fillIntervalMs);
    if (fills > 0) {
      b.lastFill += fills * b.spec.fillIntervalMs;
      b.tokens = Math.min(b.spec.maxTokens, b.tokens + fills * b.spec.tokensPerFill);
    }
    const cap = Math.min(MAX_BLOCK, Math.max(1, Math.floor(b.spec.maxTokens / (SHARE_DIVISOR * Math.max(1, this.#workerCount())))));
    const tokens = Math.max(0, Math.min(Math.floor(req.want), cap, b.tokens));
    b.tokens -= tokens;
    return { type: 'meltemi.policy.grant', seq: req.seq, tokens, validMs: b.lastFill + b.spec.fillIntervalMs - now };
  }

  #bucket(id: string, spec: TokenBucketSpec, now: number): Bucket {
    // A bucket whose spec changed (a new config) starts over, full, as a new Envoy bucket would.
    const key = `${id}|${spec.maxTokens}|${spec.tokensPerFill}|${spec.fillIntervalMs}`;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { spec: { ...spec }, tokens: spec.maxTokens, lastFill: now };
      this.#buckets.set(key, b);
    }
    return b;
  }
}

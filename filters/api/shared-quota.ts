/**
 * Quota that must hold for the whole sidecar, whatever the number of worker processes.
 * The proxy implements it: in a worker the primary owns the bucket and leases tokens out.
 */

/** A token bucket as Envoy configures one. */
export interface TokenBucketSpec {
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
}

/**
 * One bucket shared by every worker. `take()` answers synchronously while this worker holds
 * leased tokens (or knows the bucket is empty until its next fill), and with a promise only
 * when it has to ask the primary for more.
 */
export interface SharedTokenBucket {
  take(): boolean | Promise<boolean>;
  /** The filter's config was replaced: the lease is dropped. */
  close(): void;
}

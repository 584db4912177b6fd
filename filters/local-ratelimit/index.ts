import { ErrorType } from '../../codecs/api/index.js';
import type { Metadata } from '../../codecs/api/index.js';
import { FilterStatus } from '../api/index.js';
import type { Filter, FilterExchange, FilterFactory } from '../api/index.js';
import { compileHeaderMatcher, ConfigError, duration, int, list, object, optional, routeMatch, str, wrappedInt } from '../../config/index.js';
import { TokenBucket } from './token-bucket.js';

/** Envoy's lower bound on the refill period (Aeraki rejects shorter ones too). */
const MIN_FILL_INTERVAL_MS = 50;

const tokenBucket = object({
  max_tokens: int({ min: 1 }),
  tokens_per_fill: optional(wrappedInt({ min: 1 })),
  fill_interval: duration(),
});

/** Exported for the generated docs/configuration.md. */
export const localRateLimit = object({
  '@type': optional(str()),
  stat_prefix: str({ minLength: 1 }),
  token_bucket: optional(tokenBucket),
  conditions: optional(list(object({ match: routeMatch, token_bucket: tokenBucket }))),
});

/** Counters under `<stat_prefix>.local_rate_limit.` (Aeraki's names). */
export interface LocalRateLimitStats {
  ok: number;
  rate_limited: number;
}

interface Condition {
  matches(md: Metadata): boolean;
  bucket: TokenBucket;
}

/**
 * `aeraki.meta_protocol.filters.local_ratelimit`: token buckets shared by every connection
 * of the listener (per process, as Aeraki's are per Envoy process). The first condition
 * whose match holds takes a token from its bucket; requests matching no condition use the
 * default bucket when there is one, and pass otherwise. An empty bucket answers with the
 * protocol's overload error.
 */
export class LocalRateLimiter implements Filter {
  readonly statPrefix: string;
  readonly stats: LocalRateLimitStats = { ok: 0, rate_limited: 0 };
  readonly #conditions: Condition[];
  readonly #default: TokenBucket | undefined;
  readonly #buckets: TokenBucket[];
  readonly #timer: NodeJS.Timeout;

  constructor(config: unknown) {
    const errors: string[] = [];
    const cfg = localRateLimit.parse(config, 'config', errors);
    if (cfg === undefined || errors.length > 0) throw new ConfigError(errors, 'local_ratelimit config');
    const now = performance.now();
    const bucketOf = (b: { max_tokens: number; tokens_per_fill?: number; fill_interval: number }): TokenBucket =>
      new TokenBucket(b.max_tokens, b.tokens_per_fill ?? 1, b.fill_interval, now);
    this.statPrefix = cfg.stat_prefix;
    this.#default = cfg.token_bucket === undefined ? undefined : bucketOf(cfg.token_bucket);
    this.#conditions = (cfg.conditions ?? []).map((c) => {
      const matchers = (c.match.metadata ?? []).map(compileHeaderMatcher);
      return { matches: (md: Metadata) => matchers.every((m) => m(md)), bucket: bucketOf(c.token_bucket) };
    });
    this.#buckets = [...(this.#default ? [this.#default] : []), ...this.#conditions.map((c) => c.bucket)];
    if (this.#buckets.length === 0) throw new ConfigError(['config: needs token_bucket or at least one condition'], 'local_ratelimit config');
    const period = Math.min(...this.#buckets.map((b) => b.fillIntervalMs));
    if (period < MIN_FILL_INTERVAL_MS) {
      throw new ConfigError([`config: local rate limit token bucket fill timer must be >= 50ms (got ${period} ms)`], 'local_ratelimit config');
    }
    this.#timer = setInterval(() => this.#refill(), period);
    this.#timer.unref();
  }

  #refill(): void {
    const now = performance.now();
    for (const b of this.#buckets) b.refill(now);
  }

  onRequest(ex: FilterExchange): FilterStatus {
    const md = ex.metadata;
    let bucket = this.#default;
    for (const c of this.#conditions) {
      if (c.matches(md)) {
        bucket = c.bucket;
        break;
      }
    }
    // An empty bucket first catches up on fills its timer has not run yet (a busy event loop
    // runs timers late): a request after the fill interval must not be refused for that.
    if (bucket === undefined || bucket.tryTake() || bucket.tryTakeAfterRefill(performance.now())) {
      this.stats.ok++;
      return FilterStatus.Continue;
    }
    this.stats.rate_limited++;
    ex.sendLocalReply(ErrorType.OverLimit, `meta protocol local rate limit: request '${ex.downstreamRequestId}' has been rate limited`);
    return FilterStatus.Stop;
  }

  /** Stops the refill timer (the listener's config was replaced). */
  close(): void {
    clearInterval(this.#timer);
  }
}

export const localRateLimitFilterFactory: FilterFactory = {
  name: 'aeraki.meta_protocol.filters.local_ratelimit',
  create(config: unknown): () => Filter {
    // One limiter per filter config: the quota is shared by every exchange of the listener.
    const limiter = new LocalRateLimiter(config);
    return () => limiter;
  },
};

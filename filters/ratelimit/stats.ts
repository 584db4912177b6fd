import { LatencyHistogram } from '../../proxy/observability/histogram.js';
import type { StatsSnapshot } from '../../proxy/observability/stats-snapshot.js';

/** Breaker state as a gauge value. */
export const enum BreakerState {
  Closed = 0,
  Open = 1,
  HalfOpen = 2,
}

/**
 * Counters of one global rate-limit filter, under `<listener prefix>ratelimit.`. The first
 * five are Envoy's names (ratelimit filter stats): per request that asked the service.
 * The rest are Meltemi's: service calls (several requests can share one), and the breaker.
 */
export class RateLimitStats {
  readonly prefix: string;
  total = 0;
  ok = 0;
  over_limit = 0;
  error = 0;
  failure_mode_allowed = 0;
  /** Of `ok`: requests let through on a lease, without waiting for the service (told to it after). */
  preadmitted = 0;
  /** ShouldRateLimit calls made (one call can carry the hits of several requests). */
  rls_calls = 0;
  /** Requests answered at once because the breaker was open. */
  circuit_breaker_rejected = 0;
  /** Times the breaker opened. */
  circuit_breaker_opened = 0;
  /** Gauge: 0 closed, 1 open, 2 half-open. */
  circuit_breaker_state: BreakerState = BreakerState.Closed;
  /** How long the first (longest-waiting) request of each call waited for the decision. */
  readonly wait_ms = new LatencyHistogram();

  constructor(listenerPrefix: string) {
    this.prefix = `${listenerPrefix}ratelimit.`;
  }

  collect(into: StatsSnapshot): void {
    for (const [k, v] of Object.entries(this)) {
      if (typeof v !== 'number') continue;
      if (k === 'circuit_breaker_state') into.gauges[this.prefix + k] = v;
      else into.counters[this.prefix + k] = v;
    }
    into.histograms[`${this.prefix}wait_ms`] = this.wait_ms.snapshot();
  }
}

import type { Counter, Gauge, Histogram, StatsScope } from '../api/index.js';

/** Breaker state as a gauge value. */
export const enum BreakerState {
  Closed = 0,
  Open = 1,
  HalfOpen = 2,
}

/**
 * Stats of one global rate-limit filter, under `<listener prefix>ratelimit.`, kept through
 * the filter stats API (the proxy shows them in /stats). The first five are Envoy's names
 * (ratelimit filter stats): per request that asked the service. The rest are Meltemi's:
 * service calls (several requests can share one), and the breaker.
 */
export class RateLimitStats {
  readonly prefix: string;
  readonly total: Counter;
  readonly ok: Counter;
  readonly over_limit: Counter;
  readonly error: Counter;
  readonly failure_mode_allowed: Counter;
  /** Of `ok`: requests let through on a lease, without waiting for the service (told to it after). */
  readonly preadmitted: Counter;
  /** ShouldRateLimit calls made (one call can carry the hits of several requests). */
  readonly rls_calls: Counter;
  /** Requests answered at once because the breaker was open. */
  readonly circuit_breaker_rejected: Counter;
  /** Times the breaker opened. */
  readonly circuit_breaker_opened: Counter;
  /** 0 closed, 1 open, 2 half-open. */
  readonly circuit_breaker_state: Gauge;
  /** How long the first (longest-waiting) request of each call waited for the decision. */
  readonly wait_ms: Histogram;

  /** `scope` is the filter's: `<listener prefix>ratelimit.`. */
  constructor(scope: StatsScope) {
    this.prefix = scope.prefix;
    this.total = scope.counter('total');
    this.ok = scope.counter('ok');
    this.over_limit = scope.counter('over_limit');
    this.error = scope.counter('error');
    this.failure_mode_allowed = scope.counter('failure_mode_allowed');
    this.preadmitted = scope.counter('preadmitted');
    this.rls_calls = scope.counter('rls_calls');
    this.circuit_breaker_rejected = scope.counter('circuit_breaker_rejected');
    this.circuit_breaker_opened = scope.counter('circuit_breaker_opened');
    this.circuit_breaker_state = scope.gauge('circuit_breaker_state');
    this.wait_ms = scope.histogram('wait_ms');
  }
}

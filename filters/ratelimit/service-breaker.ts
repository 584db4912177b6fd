import CircuitBreaker from 'opossum';
import type { ClientUnaryCall } from '@grpc/grpc-js';
import type { StatsScope } from '../api/index.js';
import type { RlsChannel } from './rls-channel.js';
import type { RlsAnswer } from './rls-wire.js';
import { BreakerState, RateLimitStats } from './stats.js';

/** Where a call in flight is kept, so its deadline can cancel it. */
export interface CallHolder {
  call: ClientUnaryCall | undefined;
}

/** How the breaker trips and recovers. */
export interface BreakerOptions {
  /** Failed share of calls (timeouts included), in percent, that opens it. */
  readonly errorThresholdPercentage: number;
  /** Calls in the rolling window before it may open. */
  readonly volumeThreshold: number;
  /** The rolling window, in ms. */
  readonly rollingCountTimeout: number;
  /** How long it stays open before a probe call (half-open), in ms. */
  readonly resetTimeout: number;
}

/** Open at half of at least 5 calls failing within a second; probe again after a second. */
export const DEFAULT_BREAKER: BreakerOptions = { errorThresholdPercentage: 50, volumeThreshold: 5, rollingCountTimeout: 1000, resetTimeout: 1000 };

function callService(channel: RlsChannel, request: Buffer, holder: CallHolder): Promise<RlsAnswer> {
  return new Promise((resolve, reject) => {
    holder.call = channel.call(request, (err, answer) => {
      holder.call = undefined;
      if (err !== null) reject(err);
      else resolve(answer!);
    });
  });
}

/**
 * The stats and the circuit breaker (opossum) of the rate-limit filter of one listener.
 * One per stat prefix in the process: a filter rebuilt by a listener update keeps them, so
 * counters go on and an open breaker stays open. The breaker counts a call failed when the
 * service errs or misses the deadline (the filter cancels such calls); while it is open,
 * calls fail at once, and after `resetTimeout` one probe call decides.
 */
export class RateLimitShared {
  readonly stats: RateLimitStats;
  readonly breaker: CircuitBreaker<[RlsChannel, Buffer, CallHolder], RlsAnswer>;

  /** `scope`: the filter's stats, `<listener prefix>ratelimit.`. */
  constructor(scope: StatsScope, options: BreakerOptions) {
    const stats = new RateLimitStats(scope);
    this.stats = stats;
    // The deadline is the filter's (per batch), not opossum's (one per breaker).
    this.breaker = new CircuitBreaker(callService, { ...options, timeout: false, name: stats.prefix });
    this.breaker.on('open', () => {
      stats.circuit_breaker_state.set(BreakerState.Open);
      stats.circuit_breaker_opened.inc();
    });
    this.breaker.on('halfOpen', () => {
      stats.circuit_breaker_state.set(BreakerState.HalfOpen);
    });
    this.breaker.on('close', () => {
      stats.circuit_breaker_state.set(BreakerState.Closed);
    });
  }
}

/** True when `err` is the breaker refusing a call because it is open. */
export function isBreakerOpen(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EOPENBREAKER';
}

import { logger } from '../logger.js';
import type { ListenerStats } from '../stats.js';
import type { ExchangeObserver, ObservedExchange } from './observed-exchange.js';

/** Starts and propagates spans (see tracing/). */
export interface ExchangeTracer {
  onStart(ex: ObservedExchange): void;
  onUpstream(ex: ObservedExchange): void;
}

/** What a listener has switched on; each part is null/empty when off. */
export interface ObserverParts {
  /** The listener's stats when latency histograms are on. */
  readonly metrics: ListenerStats | null;
  readonly tracer: ExchangeTracer | null;
}

/**
 * The one observer of a listener's exchanges, combining what is on. Returns undefined when
 * nothing is, so that the data path pays a single `undefined` check. Istio's stats and the
 * access log are not here: they are end-of-exchange hooks of the filter chain (a filter's
 * onComplete; the access log as the runtime's own hook, see ServerObservability).
 */
export function buildObserver(parts: ObserverParts): ExchangeObserver | undefined {
  const { metrics, tracer } = parts;
  if (metrics === null && tracer === null) return undefined;
  return {
    wantsStart: tracer !== null,
    // Observers read metadata, which a codec may parse lazily and fail on: a failure here
    // is logged and must never break the exchange it observes.
    onStart(ex) {
      try {
        tracer?.onStart(ex);
      } catch (err) {
        observerFailed('start', err);
      }
    },
    onUpstream(ex) {
      try {
        tracer?.onUpstream(ex);
      } catch (err) {
        observerFailed('upstream', err);
      }
    },
    onEnd(ex) {
      try {
        end(ex);
      } catch (err) {
        observerFailed('end', err);
      }
    },
  };

  function end(ex: ObservedExchange): void {
    const ms = performance.now() - ex.startTime;
    if (metrics !== null) {
      metrics.request_time_ms.record(ms);
      const cs = ex.upstreamClusterStats;
      if (cs !== undefined && ex.response !== undefined) cs.upstream_rq_time.record(ms);
    }
    const trace = ex.trace;
    if (trace !== undefined) trace.end(ex);
  }
}

/** Logs a failed observability hook; the exchange it observes goes on. */
export function observerFailed(stage: string, err: unknown): void {
  logger.warn({ stage, err: err instanceof Error ? err.message : String(err) }, 'observability hook failed; the request goes on');
}

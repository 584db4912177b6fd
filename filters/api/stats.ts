/**
 * The stats a filter keeps, through the proxy (FilterContext.stats and .rootStats). The
 * proxy shows them in /stats and /stats/prometheus with its own, keeps them across listener
 * updates that keep the name, and adds them up across workers. A filter never renders or
 * exports stats itself.
 */

/** A value that only goes up (requests, errors). */
export interface Counter {
  /** Adds `n` (1 when left out). */
  inc(n?: number): void;
  readonly value: number;
}

/** A value that goes up and down (a state, a queue length). */
export interface Gauge {
  set(value: number): void;
  add(delta: number): void;
  readonly value: number;
}

/**
 * A distribution (latency in milliseconds, sizes). Shown as quantiles in /stats and as
 * Envoy's default buckets in Prometheus.
 */
export interface Histogram {
  record(value: number): void;
}

/**
 * Prometheus-style labels of one series (`istio_requests_total{reporter="source",...}`), in
 * the order they are to be shown. Series with the same name and labels are one series.
 */
export type StatTags = readonly (readonly [string, string])[];

/**
 * A group of stats under one name prefix. Asking twice for the same name (and tags) gives
 * the same series, so a filter may ask per request for a labelled series it meets rarely,
 * though keeping the handle is cheaper.
 */
export interface StatsScope {
  /** The prefix every name of this scope gets, e.g. `meta_protocol.dubbo.inbound.`. */
  readonly prefix: string;
  /**
   * False when the bootstrap turns stats off (`stats_config.stats_matcher.reject_all`):
   * nothing recorded is shown, so a filter may skip the work. Read it when the filter makes
   * its first instance, not in `create()`: the proxy decides it once the listener serves.
   */
  readonly enabled: boolean;
  counter(name: string, tags?: StatTags): Counter;
  gauge(name: string, tags?: StatTags): Gauge;
  histogram(name: string, tags?: StatTags): Histogram;
  /** A scope under `prefix + name + '.'`. */
  scope(name: string): StatsScope;
}

import { ErrorType } from '../codecs/api/index.js';
import { LatencyHistogram } from './observability/histogram.js';
import type { StatsSnapshot } from './observability/stats-snapshot.js';

/** Stat fields that are gauges (they go up and down); every other number is a counter. */
const LISTENER_GAUGES = new Set(['cx_active', 'request_active', 'stream_active']);

/**
 * Counters of one listener, named as Aeraki names them under
 * `meta_protocol.<protocol>.<stat_prefix>.` (spec/metaprotocol.md §8.3). Plain fields, so
 * an increment on the hot path is a property write.
 */
export class ListenerStats {
  readonly prefix: string;
  cx_total = 0;
  cx_active = 0;
  cx_destroy_with_active_rq = 0;
  request = 0;
  request_twoway = 0;
  request_oneway = 0;
  request_event = 0;
  request_active = 0;
  request_decoding_success = 0;
  request_decoding_error = 0;
  request_timeout = 0;
  request_local_error = 0;
  response = 0;
  response_success = 0;
  response_error = 0;
  response_business_exception = 0;
  response_decoding_error = 0;
  local_response_business_exception = 0;
  route_not_found = 0;
  cluster_not_found = 0;
  no_healthy_upstream = 0;
  upstream_cx_connect_fail = 0;
  upstream_reset = 0;
  request_rate_limited = 0;
  request_unauthorized = 0;
  downstream_pause = 0;
  downstream_resume = 0;
  /**
   * Exceptions caught while handling this listener's connections (a codec, filter or proxy
   * bug): each ended in an error reply or the close of its one connection, never the process.
   */
  internal_error = 0;
  idle_timeout = 0;
  /** Lifecycle (docs/lifecycle.md): a partly read frame timed out; a drain closed the connection. */
  downstream_cx_read_timeout = 0;
  downstream_cx_drain_close = 0;
  /** Overload: connections refused by the listener limit, the global limit, the heap watermark. */
  downstream_cx_overflow = 0;
  downstream_global_cx_overflow = 0;
  downstream_cx_overload_reject = 0;
  /** Requests answered with the overload error (heap past its second watermark). */
  request_overload_reject = 0;
  /** Streams (tRPC streaming): opened, open now, ended by the idle timeout, ended by a reset. */
  stream_total = 0;
  stream_active = 0;
  stream_idle_timeout = 0;
  stream_reset = 0;
  /** Bytes read from clients and written to them (Envoy's downstream_cx_rx/tx_bytes_total). */
  downstream_cx_rx_bytes_total = 0;
  downstream_cx_tx_bytes_total = 0;
  /** Aeraki's `request_time_ms`: from decode to the end of the exchange. */
  readonly request_time_ms = new LatencyHistogram();

  constructor(protocol: string, statPrefix: string) {
    this.prefix = `meta_protocol.${protocol}.${statPrefix}.`;
  }

  /** `name: value` lines, Envoy's /stats text format (numbers only). */
  lines(): string[] {
    const out: string[] = [];
    for (const [k, v] of Object.entries(this)) if (typeof v === 'number') out.push(`${this.prefix}${k}: ${v}`);
    return out;
  }

  /** Adds this listener's stats to `into`. */
  collect(into: StatsSnapshot): void {
    for (const [k, v] of Object.entries(this)) {
      if (typeof v !== 'number') continue;
      if (LISTENER_GAUGES.has(k)) into.gauges[this.prefix + k] = v;
      else into.counters[this.prefix + k] = v;
    }
    into.histograms[`${this.prefix}request_time_ms`] = this.request_time_ms.snapshot();
  }
}

/**
 * Counts a local error reply by its kind (timeouts are counted where they fire).
 * `picked`: a host had been chosen, so a NoHealthyUpstream is a failed connection to it.
 */
export function countLocalError(stats: ListenerStats, error: ErrorType, picked: boolean): void {
  switch (error) {
    case ErrorType.RouteNotFound:
      stats.route_not_found++;
      return;
    case ErrorType.ClusterNotFound:
      stats.cluster_not_found++;
      return;
    case ErrorType.NoHealthyUpstream:
      if (picked) stats.upstream_cx_connect_fail++;
      else stats.no_healthy_upstream++;
      return;
    case ErrorType.UpstreamReset:
      stats.upstream_reset++;
      return;
    case ErrorType.BadResponse:
      stats.response_decoding_error++;
      return;
    case ErrorType.OverLimit:
      stats.request_rate_limited++;
      return;
    case ErrorType.Unauthorized:
      stats.request_unauthorized++;
      return;
    default:
      return;
  }
}

/** Envoy's `cluster.<name>.*` stats of one cluster. */
export class ClusterStats {
  upstream_rq_total = 0;
  upstream_rq_completed = 0;
  upstream_rq_error = 0;
  upstream_rq_timeout = 0;
  upstream_rq_active = 0;
  upstream_rq_oneway = 0;
  upstream_rq_tx_bytes = 0;
  upstream_rs_rx_bytes = 0;
  /** Circuit breakers (Envoy's names). */
  upstream_rq_pending_overflow = 0;
  upstream_cx_overflow = 0;
  upstream_rq_retry = 0;
  upstream_rq_retry_success = 0;
  upstream_rq_retry_overflow = 0;
  /** Outlier detection. */
  outlier_detection_ejections_active = 0;
  /** Traffic mirroring: copies sent, dropped (over the bound or congested), failed. */
  mirror_rq_total = 0;
  mirror_rq_dropped = 0;
  mirror_rq_failed = 0;
  /** Exceptions caught on this cluster's upstream connections (each failed its connection). */
  upstream_cx_internal_error = 0;
  /** tcp_proxy connections (Envoy's names): opened, failed, timed out, no host to go to. */
  upstream_cx_total = 0;
  upstream_cx_connect_fail = 0;
  upstream_cx_connect_timeout = 0;
  upstream_cx_none_healthy = 0;
  readonly upstream_rq_time = new LatencyHistogram();

  collect(cluster: string, into: StatsSnapshot): void {
    const p = `cluster.${cluster}.`;
    for (const [k, v] of Object.entries(this)) {
      if (typeof v !== 'number') continue;
      if (k === 'upstream_rq_active' || k === 'outlier_detection_ejections_active') into.gauges[p + k] = v;
      else into.counters[p + k] = v;
    }
    into.histograms[`${p}upstream_rq_time`] = this.upstream_rq_time.snapshot();
  }
}

/** Per-host counters, as Envoy's /clusters prints them (`cluster::host::rq_total::N`). */
export class HostStats {
  rq_total = 0;
  rq_success = 0;
  rq_error = 0;
  rq_timeout = 0;
  rq_active = 0;
}

import type { StatsSnapshot } from '../observability/stats-snapshot.js';

const GAUGES = new Set(['downstream_cx_active', 'downstream_cx_tx_bytes_buffered', 'downstream_cx_rx_bytes_buffered', 'upstream_flush_active']);

/**
 * Envoy's tcp_proxy stats under `tcp.<stat_prefix>.` (Envoy's tcp_proxy filter docs), plain
 * fields so that counting is a property write.
 */
export class TcpProxyStats {
  readonly prefix: string;
  downstream_cx_total = 0;
  /** Connections open now (Meltemi's; Envoy counts these on the listener). */
  downstream_cx_active = 0;
  /** No cluster of that name, or no host to go to (Envoy counts both as no route). */
  downstream_cx_no_route = 0;
  downstream_cx_tx_bytes_total = 0;
  downstream_cx_tx_bytes_buffered = 0;
  downstream_cx_rx_bytes_total = 0;
  downstream_cx_rx_bytes_buffered = 0;
  downstream_flow_control_paused_reading_total = 0;
  downstream_flow_control_resumed_reading_total = 0;
  idle_timeout = 0;
  /** Upstream connects that failed (Envoy counts them on the cluster as upstream_cx_connect_fail). */
  upstream_cx_connect_fail = 0;
  upstream_flush_total = 0;
  upstream_flush_active = 0;

  constructor(statPrefix: string) {
    this.prefix = `tcp.${statPrefix}.`;
  }

  collect(into: StatsSnapshot): void {
    for (const [k, v] of Object.entries(this)) {
      if (typeof v !== 'number') continue;
      // Several chains may share a stat prefix (Istio's inbound chains per port): sum them.
      const bucket = GAUGES.has(k) ? into.gauges : into.counters;
      bucket[this.prefix + k] = (bucket[this.prefix + k] ?? 0) + v;
    }
  }
}

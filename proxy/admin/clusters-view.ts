import type { ClusterStats, HostStats } from '../stats.js';

/** What the admin shows of one upstream host. */
export interface HostStatus {
  readonly address: string;
  readonly port: number;
  readonly healthy: boolean;
  /** True while outlier detection has ejected the host. */
  readonly ejected: boolean;
  readonly weight: number;
  readonly cxActive: number;
  readonly stats: HostStats;
}

export interface ClusterStatus {
  readonly name: string;
  readonly stats: ClusterStats;
  readonly hosts: readonly HostStatus[];
}

function healthFlags(h: HostStatus): string {
  const flags: string[] = [];
  if (!h.healthy) flags.push('/failed_eds_health');
  if (h.ejected) flags.push('/failed_outlier_check');
  return flags.length === 0 ? 'healthy' : flags.join('');
}

/** Envoy's /clusters text: `cluster::host::stat::value` lines. */
export function renderClustersText(clusters: readonly ClusterStatus[]): string {
  const lines: string[] = [];
  for (const c of clusters) {
    lines.push(`${c.name}::observability_name::${c.name}`);
    for (const h of c.hosts) {
      const p = `${c.name}::${h.address}:${h.port}::`;
      lines.push(`${p}cx_active::${h.cxActive}`);
      for (const [k, v] of Object.entries(h.stats)) lines.push(`${p}${k}::${v}`);
      lines.push(`${p}health_flags::${healthFlags(h)}`, `${p}weight::${h.weight}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Envoy's `/clusters?format=json` shape. */
export function renderClustersJson(clusters: readonly ClusterStatus[]): unknown {
  return {
    cluster_statuses: clusters.map((c) => ({
      name: c.name,
      observability_name: c.name,
      host_statuses: c.hosts.map((h) => ({
        address: { socket_address: { address: h.address, port_value: h.port } },
        stats: [
          { name: 'cx_active', type: 'GAUGE', value: h.cxActive },
          ...Object.entries(h.stats).map(([name, value]) => ({ name, type: name === 'rq_active' ? 'GAUGE' : 'COUNTER', value })),
        ],
        health_status: { eds_health_status: h.healthy ? 'HEALTHY' : 'UNHEALTHY', ...(h.ejected ? { failed_outlier_check: true } : {}) },
        weight: h.weight,
      })),
    })),
  };
}

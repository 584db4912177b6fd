import type { HostStats } from '../stats.js';

/** What the admin shows of one upstream host. Plain data: workers send it over IPC. */
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
  readonly hosts: readonly HostStatus[];
}

/**
 * Sums the cluster views of several workers (each has its own pools): host counters and
 * connections add up; a host is healthy/ejected as the first worker that knows it says.
 */
export function mergeClusterStatuses(parts: readonly (readonly ClusterStatus[])[]): ClusterStatus[] {
  const clusters = new Map<string, Map<string, HostStatus>>();
  for (const part of parts) {
    for (const c of part) {
      let hosts = clusters.get(c.name);
      if (hosts === undefined) clusters.set(c.name, (hosts = new Map()));
      for (const h of c.hosts) {
        const key = `${h.address}:${h.port}`;
        const had = hosts.get(key);
        if (had === undefined) {
          hosts.set(key, { ...h, stats: { ...h.stats } });
          continue;
        }
        const stats = had.stats as unknown as Record<string, number>;
        for (const [k, v] of Object.entries(h.stats)) stats[k] = (stats[k] ?? 0) + v;
        hosts.set(key, { ...had, cxActive: had.cxActive + h.cxActive });
      }
    }
  }
  return [...clusters].map(([name, hosts]) => ({ name, hosts: [...hosts.values()] }));
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

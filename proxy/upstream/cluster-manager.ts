import type { ClusterStatus } from '../admin/clusters-view.js';
import type { CompiledCluster, RuntimeSettings } from '../config/compile.js';
import { Cluster } from './cluster.js';
import { DEFAULT_POLICY } from './cluster-policy.js';
import type { TlsRuntime } from '../tls/tls-runtime.js';

/** One row of `clusterStatus()`: a host with its upstream connections and requests in flight. */
export interface HostConnectionStatus {
  cluster: string;
  host: string;
  healthy: boolean;
  connections: number;
  pending: number;
}

/**
 * The clusters of one process by name (static ones and those CDS delivers). Listeners'
 * runtimes read `clusters` directly, so an upsert is seen by the next request.
 */
export class ClusterManager {
  readonly #clusters = new Map<string, Cluster>();
  readonly #settings: RuntimeSettings;
  /** Secure contexts and SDS for clusters whose transport is TLS. */
  readonly #tls: TlsRuntime;

  constructor(settings: RuntimeSettings, initial: readonly CompiledCluster[], tls: TlsRuntime) {
    this.#settings = settings;
    this.#tls = tls;
    for (const c of initial) this.#clusters.set(c.name, this.#build(c));
  }

  /** The live map the data path looks clusters up in. */
  get clusters(): ReadonlyMap<string, Cluster> {
    return this.#clusters;
  }

  #build(c: CompiledCluster): Cluster {
    const s = this.#settings;
    const settings = {
      connectionsPerHost: s.connectionsPerHost,
      highWatermark: s.highWatermark,
      heartbeatMs: s.upstreamHeartbeatMs,
      keepClientOrder: s.keepClientOrder,
      sourceAddress: c.sourceAddress,
      originalDst: c.originalDst,
      tls: this.#tls,
    };
    return new Cluster(c.name, c.connectTimeoutMs, settings, c.hosts, c.lb, c.policy, c.transport);
  }

  /** Adds a cluster, or updates its hosts in place (the pools of surviving hosts stay). */
  upsert(c: CompiledCluster): void {
    const existing = this.#clusters.get(c.name);
    const drainMs = this.#settings.drainTimeoutMs;
    // A new source address, kind or transport (TLS on or off, other certificates) needs new
    // pools: the cluster is rebuilt.
    const sameKind =
      existing !== undefined &&
      existing.settings.sourceAddress === c.sourceAddress &&
      existing.settings.originalDst === c.originalDst &&
      (existing.transport?.key ?? '') === (c.transport?.key ?? '');
    if (existing !== undefined && sameKind && existing.connectTimeoutMs === c.connectTimeoutMs) {
      existing.updateHosts(c.hosts, drainMs);
      existing.setLbConfig(c.lb ?? { policy: 'ROUND_ROBIN' });
      existing.setPolicy(c.policy ?? DEFAULT_POLICY);
      return;
    }
    this.#clusters.set(c.name, this.#build(c));
    existing?.closeWhenIdle(drainMs);
  }

  /** Removes a cluster; its upstream connections close once their requests are answered. */
  remove(name: string): void {
    const c = this.#clusters.get(name);
    if (c === undefined) return;
    this.#clusters.delete(name);
    c.closeWhenIdle(this.#settings.drainTimeoutMs);
  }

  /**
   * Resolves once every cluster's TLS secrets are here (Envoy's init manager: static
   * clusters with SDS certificates warm before the listeners start).
   */
  async whenTlsReady(): Promise<void> {
    await Promise.all([...this.#clusters.values()].flatMap((c) => c.tlsContexts().map((t) => t.whenReady())));
  }

  names(): string[] {
    return [...this.#clusters.keys()];
  }

  /** Every host of every cluster with its upstream connections and requests in flight. */
  connectionStatus(): HostConnectionStatus[] {
    const out: HostConnectionStatus[] = [];
    for (const c of this.#clusters.values()) {
      for (const h of c.hosts) {
        let connections = 0;
        let pending = 0;
        for (const p of h.pools()) {
          for (const conn of p.connections) {
            connections++;
            pending += conn.pendingCount;
          }
        }
        out.push({ cluster: c.name, host: h.id, healthy: h.healthy, connections, pending });
      }
    }
    return out;
  }

  /** Clusters and hosts with health and per-host request counters (admin /clusters). */
  status(): ClusterStatus[] {
    return [...this.#clusters.values()].map((c) => ({
      name: c.name,
      hosts: c.hosts.map((h) => {
        let cxActive = 0;
        for (const p of h.pools()) cxActive += p.connections.length;
        return { address: h.address, port: h.port, healthy: h.edsHealthy, ejected: h.ejected, weight: h.weight, cxActive, stats: { ...h.stats } };
      }),
    }));
  }

  close(): void {
    for (const c of this.#clusters.values()) c.close();
  }
}

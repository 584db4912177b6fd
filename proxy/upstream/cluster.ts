import type { ClientCodec, CodecContext, CodecFactory } from '../../codecs/api/index.js';
import { ClusterStats, HostStats } from '../stats.js';
import { createLoadBalancer, usesHash } from './lb/index.js';
import type { ClusterLbConfig, LoadBalancer } from './lb/index.js';
import { UpstreamPool } from './upstream-pool.js';

const ROUND_ROBIN: ClusterLbConfig = { policy: 'ROUND_ROBIN' };

export interface HostConfig {
  address: string;
  port: number;
  healthy: boolean;
  weight: number;
}

/** One upstream endpoint, with a connection pool per codec variant. */
export class Host {
  readonly address: string;
  readonly port: number;
  healthy: boolean;
  weight: number;
  /** Requests sent to this host, by outcome (admin /clusters). */
  readonly stats = new HostStats();
  readonly #pools = new Map<string, UpstreamPool>();
  readonly #cluster: Cluster;

  constructor(cluster: Cluster, cfg: HostConfig) {
    this.#cluster = cluster;
    this.address = cfg.address;
    this.port = cfg.port;
    this.healthy = cfg.healthy;
    this.weight = cfg.weight;
  }

  get id(): string {
    return `${this.address}:${this.port}`;
  }

  /** Requests in flight on this host (least-request balancing). */
  activeRequests(): number {
    return this.stats.rq_active;
  }

  /** The pool for requests decoded by `factory` with upstream key `variant`. */
  pool(factory: CodecFactory, ctx: CodecContext, variant: string): UpstreamPool {
    const key = variant === '' ? factory.name : `${factory.name}|${variant}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      const s = this.#cluster.settings;
      pool = new UpstreamPool({
        host: this.address,
        port: this.port,
        connectTimeoutMs: this.#cluster.connectTimeoutMs,
        highWatermark: s.highWatermark,
        size: s.connectionsPerHost,
        createCodec: (): ClientCodec => factory.createClientCodec(ctx),
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  pools(): IterableIterator<UpstreamPool> {
    return this.#pools.values();
  }

  close(): void {
    for (const p of this.#pools.values()) p.close();
    this.#pools.clear();
  }
}

export interface ClusterSettings {
  connectionsPerHost: number;
  highWatermark: number;
}

/** A named set of hosts and the policy that picks one of them (CDS `lb_policy`). */
export class Cluster {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly settings: ClusterSettings;
  hosts: Host[];
  #lbConfig: ClusterLbConfig;
  #lb: LoadBalancer<Host>;
  /** True when the policy hashes requests (ring hash, maglev): the route's hash policy applies. */
  usesHash: boolean;
  /** Envoy's `cluster.<name>.*` stats. */
  readonly stats = new ClusterStats();

  constructor(name: string, connectTimeoutMs: number, settings: ClusterSettings, hosts: HostConfig[], lb: ClusterLbConfig = ROUND_ROBIN) {
    this.name = name;
    this.connectTimeoutMs = connectTimeoutMs;
    this.settings = settings;
    this.hosts = hosts.map((h) => new Host(this, h));
    this.#lbConfig = lb;
    this.usesHash = usesHash(lb.policy);
    this.#lb = createLoadBalancer(lb.policy, this.hosts, lb);
  }

  /** A healthy host, or undefined when none is; `hashKey` feeds ring hash and maglev. */
  pick(hashKey?: bigint): Host | undefined {
    return this.#lb.pick(hashKey);
  }

  /** Switches the balancing policy (a CDS update changed it). */
  setLbConfig(lb: ClusterLbConfig): void {
    if (JSON.stringify(lb) === JSON.stringify(this.#lbConfig)) return;
    this.#lbConfig = lb;
    this.usesHash = usesHash(lb.policy);
    this.#lb = createLoadBalancer(lb.policy, this.hosts, lb);
  }

  /** Rebuilds the balancer after host health or the host set changed. */
  refreshBalancer(): void {
    this.#lb = createLoadBalancer(this.#lbConfig.policy, this.hosts, this.#lbConfig);
  }

  /**
   * Replaces the host set (xDS EDS/CDS update). Hosts that stay keep their connection pools
   * and get the new health and weight; removed hosts close once their requests are answered.
   */
  updateHosts(configs: HostConfig[], drainMs: number): void {
    const byId = new Map(this.hosts.map((h) => [h.id, h]));
    const next: Host[] = [];
    for (const cfg of configs) {
      const id = `${cfg.address}:${cfg.port}`;
      const kept = byId.get(id);
      if (kept !== undefined) {
        byId.delete(id);
        kept.healthy = cfg.healthy;
        kept.weight = cfg.weight;
        next.push(kept);
      } else {
        next.push(new Host(this, cfg));
      }
    }
    this.hosts = next;
    this.refreshBalancer();
    for (const gone of byId.values()) closeHostWhenIdle(gone, drainMs);
  }

  /** Closes every host once its requests are answered (the cluster was removed or replaced). */
  closeWhenIdle(drainMs: number): void {
    for (const h of this.hosts) closeHostWhenIdle(h, drainMs);
  }

  close(): void {
    for (const h of this.hosts) h.close();
  }
}

const IDLE_POLL_MS = 50;

/** Polls a host that no longer gets requests until nothing is in flight (or `drainMs` passed), then closes it. */
function closeHostWhenIdle(host: Host, drainMs: number): void {
  const deadline = Date.now() + drainMs;
  const check = (): void => {
    let pending = 0;
    for (const p of host.pools()) for (const c of p.connections) pending += c.pendingCount;
    if (pending === 0 || Date.now() >= deadline) host.close();
    else setTimeout(check, IDLE_POLL_MS).unref();
  };
  check();
}

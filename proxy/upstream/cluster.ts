import type { ClientCodec, CodecContext, CodecFactory } from '../../codecs/api/index.js';
import { NO_HOST } from '../../filters/api/index.js';
import type { HostPick, PickContext, PickResult, SubsetSelector, UpstreamCluster, UpstreamHost } from '../../filters/api/index.js';
import { ClusterStats, HostStats } from '../stats.js';
import { DEFAULT_POLICY } from './cluster-policy.js';
import type { ClusterPolicy } from './cluster-policy.js';
import { createClusterBalancer, usesHash } from './lb/index.js';
import { hashOfValues } from './lb/xxhash64.js';
import type { ClusterLbConfig, LoadBalancer } from './lb/index.js';
import { ALONE, shareOf } from '../shared-policy/breaker-share.js';
import { sharedPolicy } from '../shared-policy/shared-policy.js';
import { OutlierDetector } from './outlier-detector.js';
import type { HostOutcomes } from './outlier-detector.js';
import { UpstreamPool } from './upstream-pool.js';
import type { TlsContext, TlsRuntime } from '../tls/tls-runtime.js';
import type { TransportSpec } from '../tls/tls-spec.js';
import { transportFor } from '../tls/cluster-transport.js';
import type { ClusterTransport } from '../tls/cluster-transport.js';

const ROUND_ROBIN: ClusterLbConfig = { policy: 'ROUND_ROBIN' };

export interface HostConfig {
  address: string;
  port: number;
  healthy: boolean;
  weight: number;
  /** EDS priority level (0 is the highest). */
  priority?: number;
  /** `region/zone/sub_zone`. */
  locality?: string;
  /** The locality's load_balancing_weight, when set (locality-weighted balancing). */
  localityWeight?: number;
  /** Subset labels (`filter_metadata["envoy.lb"]`). */
  labels?: Record<string, string>;
  /** The endpoint's `envoy.transport_socket_match` metadata (picks among the cluster's transport_socket_matches). */
  transportMatch?: Record<string, string>;
}

function transportKey(t: TransportSpec | undefined): string {
  return t?.kind === 'tls' ? t.tls.key : '';
}

/** One upstream endpoint, with a connection pool per codec variant. */
export class Host implements UpstreamHost {
  readonly address: string;
  readonly port: number;
  /** Health from EDS (or the bootstrap); `healthy` also accounts for outlier ejection. */
  #edsHealthy: boolean;
  weight: number;
  priority: number;
  locality: string;
  localityWeight: number | undefined;
  labels: Readonly<Record<string, string>>;
  readonly transport: TransportSpec | undefined;
  /** Outlier detection state. */
  consecutiveErrors = 0;
  ejected = false;
  ejections = 0;
  /** Requests sent to this host, by outcome (admin /clusters). */
  readonly stats = new HostStats();
  /** This host as a pick result: handed out by every pick, so a pick allocates nothing. */
  readonly picked: HostPick<Host> = { kind: 'host', host: this };
  readonly #pools = new Map<string, UpstreamPool>();
  /** The pool handed out last, with what it was asked for. */
  #lastPool: { readonly factory: CodecFactory; readonly variant: string; readonly pool: UpstreamPool } | undefined;
  readonly #cluster: Cluster;

  constructor(cluster: Cluster, cfg: HostConfig) {
    this.#cluster = cluster;
    this.address = cfg.address;
    this.port = cfg.port;
    this.#edsHealthy = cfg.healthy;
    this.weight = cfg.weight;
    this.priority = cfg.priority ?? 0;
    this.locality = cfg.locality ?? '';
    this.localityWeight = cfg.localityWeight;
    this.labels = cfg.labels ?? {};
    this.transport = transportFor(cluster.transport, cfg.transportMatch);
  }

  /** Takes the EDS facts of an update for a host that stays. */
  update(cfg: HostConfig): void {
    this.healthy = cfg.healthy;
    this.weight = cfg.weight;
    this.priority = cfg.priority ?? 0;
    this.locality = cfg.locality ?? '';
    this.localityWeight = cfg.localityWeight;
    this.labels = cfg.labels ?? {};
  }

  /** Eligible for new requests: healthy per EDS and not ejected by outlier detection. */
  get healthy(): boolean {
    return this.#edsHealthy && !this.ejected;
  }

  set healthy(value: boolean) {
    this.#edsHealthy = value;
  }

  /** Health as EDS (or the bootstrap) says, ignoring outlier ejection (admin /clusters). */
  get edsHealthy(): boolean {
    return this.#edsHealthy;
  }

  /** Upstream connections open to this host, in every pool. */
  connectionCount(): number {
    let n = 0;
    for (const p of this.#pools.values()) n += p.connections.length;
    return n;
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
    // Nearly every request of a host asks for the pool the previous one got: no key built.
    const last = this.#lastPool;
    if (last !== undefined && last.factory === factory && last.variant === variant) return last.pool;
    const pool = this.#poolFor(factory, ctx, variant);
    this.#lastPool = { factory, variant, pool };
    return pool;
  }

  #poolFor(factory: CodecFactory, ctx: CodecContext, variant: string): UpstreamPool {
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
        ...(s.heartbeatMs !== undefined ? { heartbeatMs: s.heartbeatMs } : {}),
        sourceAddress: s.sourceAddress,
        mayOpen: () => this.#cluster.mayOpenConnection(),
        createCodec: (): ClientCodec => factory.createClientCodec(ctx),
        keepClientOrder: s.keepClientOrder ?? true,
        onFault: () => this.#cluster.stats.upstream_cx_internal_error++,
        ...this.#tlsOption(),
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** The TLS context of connections to this host (`{}` for plaintext), as an options spread. */
  #tlsOption(): { tls?: TlsContext } {
    const ctx = this.tlsContext();
    return ctx === undefined ? {} : { tls: ctx };
  }

  /** The TLS context of connections to this host; undefined for plaintext. */
  tlsContext(): TlsContext | undefined {
    const t = this.transport;
    if (t?.kind !== 'tls') return undefined;
    const runtime = this.#cluster.settings.tls;
    // Compiled TLS with no runtime to serve it would be plaintext: refuse loudly instead.
    if (runtime === undefined) throw new Error(`cluster ${this.#cluster.name}: TLS is configured but this server has no TLS runtime`);
    return runtime.contextFor(t.tls);
  }

  pools(): IterableIterator<UpstreamPool> {
    return this.#pools.values();
  }

  close(): void {
    for (const p of this.#pools.values()) p.close();
    this.#pools.clear();
    this.#lastPool = undefined;
  }
}

export type { SubsetSelector };

export interface ClusterSettings {
  connectionsPerHost: number;
  highWatermark: number;
  /** Idle time after which an upstream connection sends a heartbeat. */
  heartbeatMs?: number;
  /** A client's requests to a host share one upstream connection, in order (default true). */
  keepClientOrder?: boolean;
  /** upstream_bind_config.source_address: every upstream connection is made from it. */
  sourceAddress?: string | undefined;
  /** ORIGINAL_DST: no hosts of its own; each connection goes to its original destination. */
  originalDst?: boolean | undefined;
  /** Secure contexts and SDS of this process; needed by hosts whose transport is TLS. */
  tls?: TlsRuntime;
}

/** A named set of hosts and the policy that picks one of them (CDS `lb_policy`). */
export class Cluster implements UpstreamCluster<Host> {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly settings: ClusterSettings;
  /** TLS or plaintext, per host (transport_socket and transport_socket_matches). */
  readonly transport: ClusterTransport | undefined;
  hosts: Host[];
  #lbConfig: ClusterLbConfig;
  #lb: LoadBalancer<Host>;
  /** True when the policy hashes requests (ring hash, maglev): the route's hash policy applies. */
  usesHash: boolean;
  #policy: ClusterPolicy;
  #outliers: HostOutcomes<Host> | undefined;
  /** Retries in flight (circuit breaker max_retries). */
  retriesActive = 0;
  /** This process's share of each threshold: all of it alone, a part of it in a worker. */
  readonly #slot = sharedPolicy()?.breakerSlot ?? ALONE;
  /** Envoy's `cluster.<name>.*` stats. */
  readonly stats = new ClusterStats();

  constructor(
    name: string,
    connectTimeoutMs: number,
    settings: ClusterSettings,
    hosts: HostConfig[],
    lb: ClusterLbConfig = ROUND_ROBIN,
    policy: ClusterPolicy = DEFAULT_POLICY,
    transport?: ClusterTransport,
  ) {
    this.name = name;
    this.connectTimeoutMs = connectTimeoutMs;
    this.settings = settings;
    this.transport = transport;
    this.hosts = hosts.map((h) => new Host(this, h));
    this.#lbConfig = lb;
    this.usesHash = usesHash(lb.policy);
    this.#lb = createClusterBalancer(lb.policy, this.hosts, lb);
    this.#policy = policy;
    this.#outliers = this.#detectorFor(policy);
    this.tlsContexts();
  }

  /**
   * The TLS contexts of this cluster's transports, made now so that their SDS secrets are
   * asked for at once (Envoy warms a cluster before it is used); empty for plaintext.
   */
  tlsContexts(): TlsContext[] {
    const runtime = this.settings.tls;
    const t = this.transport;
    if (runtime === undefined || t === undefined) return [];
    return [t.default, ...t.matches.map((m) => m.transport)].flatMap((x) => (x.kind === 'tls' ? [runtime.contextFor(x.tls)] : []));
  }

  #detectorFor(policy: ClusterPolicy): HostOutcomes<Host> | undefined {
    if (policy.outlierDetection === undefined) return undefined;
    const onChange = (): void => {
      this.stats.outlier_detection_ejections_active = this.hosts.filter((h) => h.ejected).length;
      this.refreshBalancer();
    };
    // In a worker the primary detects outliers for the whole sidecar (docs/workers.md).
    const shared = sharedPolicy();
    if (shared !== undefined) return shared.outliers(this.name, policy.outlierDetection, () => this.hosts, onChange);
    return new OutlierDetector(policy.outlierDetection, () => this.hosts, onChange);
  }

  get policy(): ClusterPolicy {
    return this.#policy;
  }

  /** Replaces the circuit breakers and outlier detection (a CDS update changed them). */
  setPolicy(policy: ClusterPolicy): void {
    if (JSON.stringify(policy) === JSON.stringify(this.#policy)) return;
    this.#policy = policy;
    this.#outliers?.close();
    this.#outliers = this.#detectorFor(policy);
  }

  /** Circuit breaker max_requests: false when the cluster has as many requests in flight. */
  admitRequest(): boolean {
    return this.stats.upstream_rq_active < shareOf(this.#policy.circuitBreakers.maxRequests, this.#slot);
  }

  /** Circuit breaker max_connections, checked before a pool opens another connection. */
  mayOpenConnection(): boolean {
    let n = 0;
    for (const h of this.hosts) n += h.connectionCount();
    const ok = n < shareOf(this.#policy.circuitBreakers.maxConnections, this.#slot);
    if (!ok) this.stats.upstream_cx_overflow++;
    return ok;
  }

  /** Circuit breaker max_pending_requests: requests queued on connections still connecting. */
  pendingRequests(): number {
    let n = 0;
    for (const h of this.hosts) for (const p of h.pools()) for (const c of p.connections) n += c.queuedCount;
    return n;
  }

  get maxPendingRequests(): number {
    return shareOf(this.#policy.circuitBreakers.maxPendingRequests, this.#slot);
  }

  /** Circuit breaker max_retries, or the retry budget when one is set. */
  admitRetry(): boolean {
    const cb = this.#policy.circuitBreakers;
    const limit =
      cb.retryBudget === undefined
        ? shareOf(cb.maxRetries, this.#slot)
        : Math.max(shareOf(cb.retryBudget.minRetryConcurrency, this.#slot), Math.floor((this.stats.upstream_rq_active * cb.retryBudget.budgetPercent) / 100));
    return this.retriesActive < limit;
  }

  /** Feeds outlier detection: ok for an answer, false for an error reply, reset or timeout. */
  reportResult(host: Host, ok: boolean): void {
    if (this.#outliers === undefined) return;
    if (ok) this.#outliers.success(host);
    else this.#outliers.failure(host);
  }

  /**
   * ORIGINAL_DST: a host per original destination, made on first use (with its pools, from
   * the cluster's source address). A sidecar's inbound destinations are its own ports, so the
   * map stays small; Envoy's cleanup_interval is not applied.
   */
  readonly #byDestination = new Map<string, Host>();

  #originalDstHost(d: { readonly address: string; readonly port: number }): Host {
    const key = `${d.address}|${d.port}`;
    let h = this.#byDestination.get(key);
    if (h === undefined) {
      h = new Host(this, { address: d.address, port: d.port, healthy: true, weight: 1 });
      this.#byDestination.set(key, h);
    }
    return h;
  }

  /** Balancers over the hosts of each subset asked for (route metadata_match), built on first use. */
  readonly #subsets = new Map<string, LoadBalancer<Host>>();

  /**
   * The host choice for one try: the balancer (of the subset asked for: hosts whose
   * `envoy.lb` labels hold every given key/value, with no fallback, as Envoy's subset
   * balancer without a fallback policy), the route's hash policy when the balancer hashes
   * (Aeraki: sorted values, chained XXH64), and another host than `avoid` when the
   * balancer offers one within three picks (hashing balancers keep their host).
   */
  pick(ctx: PickContext<Host>): PickResult<Host> {
    if (this.settings.originalDst === true) {
      const d = ctx.originalDestination;
      return d === undefined ? NO_HOST : this.#originalDstHost(d).picked;
    }
    const hashKey = this.usesHash ? hashKeyOf(ctx) : undefined;
    const lb = ctx.subset === undefined ? this.#lb : this.#subsetBalancer(ctx.subset);
    let host = lb.pick(hashKey);
    const avoid = ctx.avoid;
    for (let i = 0; i < 2 && avoid !== undefined && host === avoid && hashKey === undefined; i++) host = lb.pick(undefined);
    return host === undefined ? NO_HOST : host.picked;
  }

  /** Any healthy host of the whole cluster (a side service, such as a rate-limit service). */
  anyHost(): Host | undefined {
    return this.#lb.pick(undefined);
  }

  #subsetBalancer(subset: SubsetSelector): LoadBalancer<Host> {
    let lb = this.#subsets.get(subset.key);
    if (lb === undefined) {
      const hosts = this.hosts.filter((h) => subset.entries.every(([k, v]) => h.labels[k] === v));
      lb = createClusterBalancer(this.#lbConfig.policy, hosts, this.#lbConfig);
      this.#subsets.set(subset.key, lb);
    }
    return lb;
  }

  /** Switches the balancing policy (a CDS update changed it). */
  setLbConfig(lb: ClusterLbConfig): void {
    if (JSON.stringify(lb) === JSON.stringify(this.#lbConfig)) return;
    this.#lbConfig = lb;
    this.usesHash = usesHash(lb.policy);
    this.#lb = createClusterBalancer(lb.policy, this.hosts, lb);
    this.#subsets.clear();
  }

  /** Rebuilds the balancer after host health or the host set changed. */
  refreshBalancer(): void {
    this.#lb = createClusterBalancer(this.#lbConfig.policy, this.hosts, this.#lbConfig);
    this.#subsets.clear();
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
      // A host whose transport changed (TLS on or off, another context) is a new host.
      if (kept !== undefined && transportKey(transportFor(this.transport, cfg.transportMatch)) === transportKey(kept.transport)) {
        byId.delete(id);
        kept.update(cfg);
        next.push(kept);
      } else {
        next.push(new Host(this, cfg));
      }
    }
    this.hosts = next;
    this.refreshBalancer();
    this.#outliers?.hostsChanged?.();
    for (const gone of byId.values()) closeHostWhenIdle(gone, drainMs);
  }

  /** Closes every host once its requests are answered (the cluster was removed or replaced). */
  closeWhenIdle(drainMs: number): void {
    for (const h of [...this.hosts, ...this.#byDestination.values()]) closeHostWhenIdle(h, drainMs);
  }

  close(): void {
    this.#outliers?.close();
    for (const h of [...this.hosts, ...this.#byDestination.values()]) h.close();
  }
}

/** The route's hash policy over the request's metadata (Aeraki: chained XXH64 of the values); undefined without one. */
function hashKeyOf(ctx: PickContext<Host>): bigint | undefined {
  const keys = ctx.hashKeys;
  if (keys.length === 0) return undefined;
  const md = ctx.metadata;
  return hashOfValues(keys.map((k) => md.get(k) ?? ''));
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

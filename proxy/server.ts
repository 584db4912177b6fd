import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { AdminServer } from './admin/admin-server.js';
import type { ClusterStatus } from './admin/clusters-view.js';
import type { CompiledCluster, CompiledConfig } from './config/compile.js';
import type { CompiledChain, CompiledListener, CompiledMetaChain } from './config/compile-listener.js';
import { connectionFacts, ListenerAddressIndex } from './downstream/listener-hand-off.js';
import { reportFault } from './net/fault.js';
import { originalDestination, setTransparent } from './net/original-dst.js';
import type { OriginalDestination } from './net/original-dst.js';
import { RouteTable } from './route/route-table.js';
import { TcpProxySession } from './tcp-proxy/tcp-proxy-session.js';
import type { TcpProxyRuntime } from './tcp-proxy/tcp-proxy-session.js';
import { TcpProxyStats } from './tcp-proxy/tcp-proxy-stats.js';
import { DownstreamConnection } from './downstream/downstream-connection.js';
import { ConnectionSweeper, sweepIntervalMs } from './downstream/connection-sweeper.js';
import { filterChainBuilder } from './downstream/filter-chain.js';
import type { ListenerRuntime } from './downstream/listener-runtime.js';
import { logger } from './logger.js';
import { DeadlineQueue } from './net/deadline-queue.js';
import { collectSnapshot } from './observability/collect.js';
import { ServerObservability } from './observability/server-observability.js';
import { addMemoryGauges, processMemory } from './observability/memory.js';
import { collectFilterStats } from './observability/filter-stats.js';
import type { StatsSnapshot } from './observability/stats-snapshot.js';
import { OverloadManager } from './overload/overload-manager.js';
import type { Refusal } from './overload/overload-manager.js';
import { ListenerStats } from './stats.js';
import { Cluster } from './upstream/cluster.js';
import { DEFAULT_POLICY } from './upstream/cluster-policy.js';

const VERSION = '0.1.0';

/** The runtime of one filter chain: a MetaProtocol proxy, or tcp_proxy. */
type ChainRuntime = { readonly kind: 'meta'; readonly runtime: ListenerRuntime } | { readonly kind: 'tcp'; readonly runtime: TcpProxyRuntime };

/** What a listener needs from the server beyond its own config. */
interface ListenerContext {
  readonly overload: OverloadManager;
  /** The listener of an original destination (use_original_dst hand-off), or undefined. */
  handOffTarget(dest: OriginalDestination, from: Listener): Listener | undefined;
}

/**
 * One listener and the connections it serves. It owns a socket unless `bind_to_port` is
 * false (then it only takes connections handed off by a `use_original_dst` listener).
 * `compiled` and the chain runtimes are replaced by a listener update on the same address:
 * the socket stays bound (Node has no working reusePort, spec/xds.md §5.2), new connections
 * take the new runtimes, and the ones accepted before keep theirs until they are drained.
 */
class Listener {
  compiled: CompiledListener;
  chains: Map<CompiledChain, ChainRuntime>;
  readonly server: net.Server | undefined;
  readonly connections = new Set<DownstreamConnection>();
  readonly tcpSessions = new Set<TcpProxySession>();
  /** Connections no filter chain took (Envoy's no_filter_chain_match). */
  noFilterChainMatch = 0;
  /** Idle, frame-read and drain timers of every connection: one periodic sweep. */
  readonly #sweeper = new ConnectionSweeper(this.connections);
  /** The port bound by listen(), kept so that it can be shown after the socket closed. */
  #port: number;
  /** Called when the last connection of a closed listener ends (drains wait for it). */
  #onEmpty: (() => void) | undefined;
  readonly #ctx: ListenerContext;
  readonly #forget: (c: DownstreamConnection) => void;
  readonly #forgetTcp: (s: TcpProxySession) => void;

  constructor(compiled: CompiledListener, chains: Map<CompiledChain, ChainRuntime>, ctx: ListenerContext) {
    this.compiled = compiled;
    this.chains = chains;
    this.#ctx = ctx;
    this.#port = compiled.port;
    const overload = ctx.overload;
    // One callback for every connection's end, not a closure per connection.
    this.#forget = (c: DownstreamConnection): void => {
      if (this.connections.delete(c)) overload.activeConnections--;
      this.#checkEmpty();
    };
    this.#forgetTcp = (t: TcpProxySession): void => {
      if (this.tcpSessions.delete(t)) overload.activeConnections--;
      this.#checkEmpty();
    };
    // allowHalfOpen: tcp_proxy passes a client's FIN on and keeps the other direction open;
    // MetaProtocol connections switch it off again (serve()).
    this.server = compiled.bindToPort ? net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.#accept(socket)) : undefined;
    this.retime();
  }

  #checkEmpty(): void {
    if (this.connections.size === 0 && this.tcpSessions.size === 0) this.#onEmpty?.();
  }

  get size(): number {
    return this.connections.size + this.tcpSessions.size;
  }

  #accept(socket: net.Socket): void {
    const refusal = this.#ctx.overload.admit(this.size);
    if (refusal !== undefined) {
      this.#refuse(socket, refusal);
      return;
    }
    try {
      let dest: OriginalDestination | undefined;
      if (this.compiled.recoversOriginalDst) {
        const d = originalDestination(socket, this.compiled.transparent);
        // Not intercepted (ENOENT: a direct connection to 15001): the local address stands.
        if (d instanceof Error) logger.debug({ listener: this.compiled.name, err: d.message }, 'no original destination');
        else dest = d;
      }
      if (dest !== undefined && this.compiled.useOriginalDst) {
        const target = this.#ctx.handOffTarget(dest, this);
        if (target !== undefined) {
          target.serve(socket, dest);
          return;
        }
      }
      this.serve(socket, dest);
    } catch (err) {
      reportFault('accept', err, { listener: this.compiled.name });
      socket.on('error', ignore);
      socket.destroy();
    }
  }

  /** Serves a connection accepted here or handed off to this listener, on the chain its facts select. */
  serve(socket: net.Socket, dest: OriginalDestination | undefined): void {
    const chain = this.compiled.selector.select(connectionFacts(socket, dest));
    const rt = chain === undefined ? undefined : this.chains.get(chain);
    if (rt === undefined) {
      this.noFilterChainMatch++;
      logger.debug({ listener: this.compiled.name, client: `${socket.remoteAddress}:${socket.remotePort}` }, 'no filter chain matches the connection; closed');
      socket.on('error', ignore);
      socket.destroy();
      return;
    }
    this.#ctx.overload.activeConnections++;
    if (rt.kind === 'tcp') {
      this.tcpSessions.add(new TcpProxySession(socket, rt.runtime, dest, this.#forgetTcp));
      return;
    }
    // A MetaProtocol connection closes its side when the client ends (Node's default).
    socket.allowHalfOpen = false;
    const conn = new DownstreamConnection(socket, rt.runtime, this.#forget);
    conn.originalDestination = dest;
    this.connections.add(conn);
  }

  /** Closes a connection over a limit at once (Envoy accepts, counts and closes it too). */
  #refuse(socket: net.Socket, refusal: Refusal): void {
    const stats = this.metaRuntimes()[0]?.stats;
    if (stats !== undefined) {
      if (refusal === 'listener_limit') stats.downstream_cx_overflow++;
      else if (refusal === 'global_limit') stats.downstream_global_cx_overflow++;
      else stats.downstream_cx_overload_reject++;
    }
    socket.on('error', ignore);
    socket.destroy();
  }

  /** The runtimes of the MetaProtocol chains, in chain order. */
  metaRuntimes(): ListenerRuntime[] {
    return [...this.chains.values()].flatMap((c) => (c.kind === 'meta' ? [c.runtime] : []));
  }

  tcpRuntimes(): TcpProxyRuntime[] {
    return [...this.chains.values()].flatMap((c) => (c.kind === 'tcp' ? [c.runtime] : []));
  }

  /** Sets the sweep interval from the timeouts of the current runtimes. */
  retime(): void {
    this.#sweeper.start(sweepIntervalMs(this.metaRuntimes().flatMap((r) => [r.idleTimeoutMs, r.frameReadTimeoutMs, r.drainGraceMs])));
  }

  async listen(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.compiled.port, this.compiled.host, () => {
        server.off('error', reject);
        this.#port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
    if (this.compiled.transparent) {
      try {
        setTransparent(server);
      } catch (err) {
        server.close();
        throw new Error(`listener ${this.compiled.name}: transparent: cannot set IP_TRANSPARENT (needs CAP_NET_ADMIN): ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /**
   * Stops accepting and drains every connection (drain-state.ts); resolves once the last one
   * closed, and stops the sweep then. Connections accepted under an older runtime drain the
   * same way; tcp_proxy connections have no request boundary and close at the drain timeout.
   */
  async closeAndDrain(): Promise<void> {
    this.server?.close();
    for (const c of [...this.connections]) c.drain();
    if (this.size > 0) {
      await new Promise<void>((resolve) => {
        const previous = this.#onEmpty;
        this.#onEmpty = () => {
          this.#onEmpty = undefined;
          previous?.();
          resolve();
        };
      });
    }
    this.#sweeper.stop();
  }

  /** Closes the socket and every connection now. */
  close(): void {
    this.server?.close();
    for (const c of [...this.connections]) c.close();
    for (const t of [...this.tcpSessions]) t.close();
    this.#sweeper.stop();
  }

  get port(): number {
    return this.#port;
  }
}

function ignore(): void {}

/** A running proxy: listeners, clusters and the admin server of one compiled config. */
export class MeltemiServer {
  readonly config: CompiledConfig;
  readonly #listeners = new Map<string, Listener>();
  readonly #clusters = new Map<string, Cluster>();
  readonly #deadlines = new DeadlineQueue();
  /** Connection limits and heap watermarks, shared by every listener. */
  readonly #overload: OverloadManager;
  #admin: AdminServer | undefined;
  #draining = false;
  readonly #startedAt = Date.now();

  /** Metrics, access logs, tracing: process-wide parts and each listener's observer. */
  readonly #observability: ServerObservability;

  private constructor(config: CompiledConfig) {
    this.config = config;
    const s = config.settings;
    this.#overload = new OverloadManager(s.overload);
    this.#listenerContext = { overload: this.#overload, handOffTarget: (dest, from) => this.#index.find(dest, from) };
    this.#observability = new ServerObservability({
      metricsOn: config.bootstrap.stats_config?.stats_matcher?.reject_all !== true,
      nodeMetadata: config.bootstrap.node?.metadata,
      nodeId: config.bootstrap.node?.id,
      clusterAddress: (name) => {
        const h = config.clusters.find((c) => c.name === name)?.hosts[0];
        return h === undefined ? undefined : `${h.address}:${h.port}`;
      },
    });
    for (const c of config.clusters) this.#clusters.set(c.name, this.#newCluster(c));
    for (const l of config.listeners) this.#listeners.set(l.name, new Listener(l, this.#chainRuntimes(l, undefined, undefined), this.#listenerContext));
    this.#reindex();
  }

  #newCluster(c: CompiledCluster): Cluster {
    const s = this.config.settings;
    const settings = {
      connectionsPerHost: s.connectionsPerHost,
      highWatermark: s.highWatermark,
      heartbeatMs: s.upstreamHeartbeatMs,
      keepClientOrder: s.keepClientOrder,
      sourceAddress: c.sourceAddress,
      originalDst: c.originalDst,
    };
    return new Cluster(c.name, c.connectTimeoutMs, settings, c.hosts, c.lb, c.policy);
  }

  /** Hand-off targets by address (listener-hand-off.ts); rebuilt when listeners change. */
  readonly #index = new ListenerAddressIndex<Listener>();
  readonly #listenerContext: ListenerContext;

  #reindex(): void {
    this.#index.rebuild([...this.#listeners.values()].map((l) => ({ host: l.compiled.host, port: l.compiled.port, listener: l })));
  }

  /**
   * The runtime of every chain of a listener. `rdsRoutes`: the MetaRDS table for the chains
   * whose routes come from MetaRDS (the others have theirs inline). Counters survive an update
   * that keeps a chain's stat prefix.
   */
  #chainRuntimes(l: CompiledListener, rdsRoutes: RouteTable | undefined, previous: Listener | undefined): Map<CompiledChain, ChainRuntime> {
    const out = new Map<CompiledChain, ChainRuntime>();
    const oldMeta = previous?.metaRuntimes() ?? [];
    const oldTcp = previous?.tcpRuntimes() ?? [];
    for (const c of [...l.chains, ...(l.defaultChain === undefined ? [] : [l.defaultChain])]) {
      if (c.kind === 'meta') {
        const routes = c.meta.rds !== undefined ? (rdsRoutes ?? RouteTable.EMPTY) : c.meta.routeTable;
        out.set(c, { kind: 'meta', runtime: this.#runtimeOf(c.meta, routes, oldMeta) });
      } else {
        const prefix = `tcp.${c.tcp.statPrefix}.`;
        const stats = oldTcp.find((r) => r.stats.prefix === prefix)?.stats ?? new TcpProxyStats(c.tcp.statPrefix);
        const accessLogs = c.tcp.accessLogs.map((a) => ({ sink: this.#observability.logSink(a.path), format: a.format }));
        out.set(c, { kind: 'tcp', runtime: { config: c.tcp, stats, clusters: this.#clusters, accessLogs, highWatermark: this.config.settings.highWatermark } });
      }
    }
    return out;
  }

  #runtimeOf(l: CompiledMetaChain, routes: RouteTable, previous: readonly ListenerRuntime[]): ListenerRuntime {
    const fresh = new ListenerStats(l.protocol, l.statPrefix);
    const stats = previous.find((r) => r.stats.prefix === fresh.prefix)?.stats ?? fresh;
    return {
      name: l.name,
      codecFactory: l.codecFactory,
      codecContext: l.codecContext,
      routes: { current: routes },
      filters: l.filters,
      newFilterChain: filterChainBuilder(l.filters),
      stats,
      observer: this.#observability.observerFor(l, stats),
      idleTimeoutMs: l.idleTimeoutMs,
      frameReadTimeoutMs: this.config.settings.frameReadTimeoutMs,
      drainGraceMs: this.config.settings.drainGraceMs,
      overload: this.#overload,
      requestTimeoutMs: l.requestTimeoutMs,
      streamIdleTimeoutMs: l.proxyConfig.stream_idle_timeout,
      highWatermark: this.config.settings.highWatermark,
      onewayMethods: l.onewayMethods,
      clusters: this.#clusters,
      deadlines: this.#deadlines,
    };
  }

  /** Names of the listeners now serving. */
  listenerNames(): string[] {
    return [...this.#listeners.keys()];
  }

  /** The compiled config a listener now serves with (undefined when there is no such listener). */
  listenerConfig(name: string): CompiledListener | undefined {
    return this.#listeners.get(name)?.compiled;
  }

  /**
   * Adds a listener, or updates the one of that name (xDS LDS). On the same address the
   * socket stays bound and only the connections accepted before the update are drained;
   * on a new address the new socket is bound first, then the old listener is drained.
   * `routes` is the table to start with (the RDS table already known, or the inline one).
   */
  async upsertListener(compiled: CompiledListener, routes?: RouteTable): Promise<void> {
    const old = this.#listeners.get(compiled.name);
    const sameSocket = old !== undefined && old.compiled.host === compiled.host && old.compiled.port === compiled.port && old.compiled.bindToPort === compiled.bindToPort && old.compiled.transparent === compiled.transparent;
    if (old !== undefined && sameSocket) {
      const before = [...old.connections];
      const tcpBefore = [...old.tcpSessions];
      old.chains = this.#chainRuntimes(compiled, routes, old);
      old.compiled = compiled;
      old.retime();
      for (const c of before) c.drain();
      this.#closeAfterDrainTimeout(before, tcpBefore);
      this.#reindex();
      logger.info({ listener: compiled.name, draining: before.length + tcpBefore.length }, 'listener updated');
      return;
    }
    const fresh = new Listener(compiled, this.#chainRuntimes(compiled, routes, old), this.#listenerContext);
    await fresh.listen();
    this.#listeners.set(compiled.name, fresh);
    this.#reindex();
    if (old !== undefined) this.#retire(old);
    logger.info({ listener: compiled.name, address: `${compiled.host}:${fresh.port}` }, old === undefined ? 'listener added' : 'listener moved');
  }

  /** Removes a listener: its socket closes, its connections drain. */
  removeListener(name: string): void {
    const l = this.#listeners.get(name);
    if (l === undefined) return;
    this.#listeners.delete(name);
    this.#reindex();
    this.#retire(l);
    logger.info({ listener: name }, 'listener removed');
  }

  /** Swaps the route table of a listener's MetaRDS chains; applies from the next request on every connection. */
  setListenerRoutes(name: string, routes: RouteTable): void {
    const l = this.#listeners.get(name);
    if (l === undefined) return;
    for (const [chain, rt] of l.chains) if (chain.kind === 'meta' && chain.meta.rds !== undefined && rt.kind === 'meta') rt.runtime.routes.current = routes;
  }

  /** Adds a cluster, or updates its hosts in place (the pools of surviving hosts stay). */
  upsertCluster(c: CompiledCluster): void {
    const existing = this.#clusters.get(c.name);
    const drainMs = this.config.settings.drainTimeoutMs;
    if (existing !== undefined && existing.connectTimeoutMs === c.connectTimeoutMs && existing.settings.sourceAddress === c.sourceAddress && existing.settings.originalDst === c.originalDst) {
      existing.updateHosts(c.hosts, drainMs);
      existing.setLbConfig(c.lb ?? { policy: 'ROUND_ROBIN' });
      existing.setPolicy(c.policy ?? DEFAULT_POLICY);
      return;
    }
    this.#clusters.set(c.name, this.#newCluster(c));
    existing?.closeWhenIdle(drainMs);
  }

  /** Removes a cluster; its upstream connections close once their requests are answered. */
  removeCluster(name: string): void {
    const c = this.#clusters.get(name);
    if (c === undefined) return;
    this.#clusters.delete(name);
    c.closeWhenIdle(this.config.settings.drainTimeoutMs);
  }

  /** Names of the clusters now known. */
  clusterNames(): string[] {
    return [...this.#clusters.keys()];
  }

  #retire(l: Listener): void {
    const conns = [...l.connections];
    const tcp = [...l.tcpSessions];
    void l.closeAndDrain();
    this.#closeAfterDrainTimeout(conns, tcp);
  }

  /**
   * The last resort of a drain: closes the drained connections still open after the drain
   * timeout (a connection closes by itself as soon as it has nothing in flight).
   */
  #closeAfterDrainTimeout(conns: DownstreamConnection[], tcp: TcpProxySession[] = []): void {
    if (conns.length === 0 && tcp.length === 0) return;
    setTimeout(() => {
      const left = conns.filter((c) => !c.closed);
      if (left.length > 0) logger.warn({ connections: left.length, requests: left.reduce((n, c) => n + c.inflight, 0) }, 'drain timeout: closing connections with requests in flight');
      for (const c of left) c.close();
      // A byte stream has no request boundary to drain at: it closes at the drain timeout.
      for (const t of tcp) if (!t.closed) t.close();
    }, this.config.settings.drainTimeoutMs).unref();
  }

  /** Adds sections to /config_dump (the xDS client's resources, versions and errors). */
  setConfigDumpExtra(extra: () => object[]): void {
    this.#configDumpExtra = extra;
  }

  #configDumpExtra: () => object[] = () => [];

  /** Adds lines to /stats (the xDS client's counters). */
  setStatsExtra(extra: () => string[]): void {
    this.#statsExtra = extra;
  }

  #statsExtra: () => string[] = () => [];

  /** Starts every listener and the admin server; rejects (after cleaning up) if one cannot bind. */
  static async start(config: CompiledConfig): Promise<MeltemiServer> {
    const server = new MeltemiServer(config);
    try {
      for (const l of server.#listeners.values()) {
        await l.listen();
        const codecs = l.compiled.metaChains.map((m) => m.codecFactory.name);
        logger.info({ listener: l.compiled.name, address: `${l.compiled.host}:${l.port}`, bound: l.compiled.bindToPort, codecs, tcpProxyChains: l.tcpRuntimes().length }, 'listener started');
      }
      if (config.admin !== undefined) server.#admin = await AdminServer.start(config.admin.host, config.admin.port, server.#adminSource());
    } catch (err) {
      await server.close();
      throw err;
    }
    for (const w of config.warnings) logger.warn(w);
    return server;
  }

  /** Every listener with the address it is bound to (the real port when the config said 0). */
  listenerAddresses(): { name: string; address: string }[] {
    return [...this.#listeners.values()].map((l) => ({ name: l.compiled.name, address: `${l.compiled.host}:${l.port}` }));
  }

  listenerPort(name: string): number {
    const l = this.#listeners.get(name);
    if (l === undefined) throw new Error(`no listener named '${name}'`);
    return l.port;
  }

  get adminPort(): number | undefined {
    return this.#admin?.port;
  }

  /** Counters of a listener (for tests and the quickstart summary). */
  listenerStats(name: string): ListenerStats {
    const l = this.#listeners.get(name);
    if (l === undefined) throw new Error(`no listener named '${name}'`);
    const rt = l.metaRuntimes()[0];
    if (rt === undefined) throw new Error(`listener '${name}' has no MetaProtocol chain`);
    return rt.stats;
  }

  routeStats(listener: string): { name: string; requests: number; responses: number; errors: number; localReplies: number }[] {
    const l = this.#listeners.get(listener);
    if (l === undefined) throw new Error(`no listener named '${listener}'`);
    return l.metaRuntimes().flatMap((rt) => rt.routes.current.routes.map((r) => ({ name: r.name, ...r.stats })));
  }

  /** Every host of every cluster with its upstream connections and requests in flight. */
  clusterStatus(): { cluster: string; host: string; healthy: boolean; connections: number; pending: number }[] {
    const out: { cluster: string; host: string; healthy: boolean; connections: number; pending: number }[] = [];
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

  /**
   * Every stat of this process as JSON (what a worker sends to the primary; the admin
   * renders it). Empty with `stats_config.stats_matcher.reject_all`.
   */
  statsSnapshot(): StatsSnapshot {
    if (!this.#observability.metricsOn) return { counters: {}, gauges: {}, histograms: {} };
    return collectSnapshot({
      listeners: [...this.#listeners.values()].flatMap((l) => l.metaRuntimes().map((rt) => ({ stats: rt.stats, routes: rt.routes.current.routes }))),
      clusters: this.#clusters.values(),
      collectExtra: (into) => {
        this.#observability.collect(into);
        this.#overload.collect(into);
        addMemoryGauges(into, processMemory());
        collectFilterStats(into);
        for (const l of this.#listeners.values()) {
          for (const rt of l.tcpRuntimes()) rt.stats.collect(into);
          if (l.noFilterChainMatch > 0) into.counters[`listener.${l.compiled.host}_${l.compiled.port}.no_filter_chain_match`] = l.noFilterChainMatch;
        }
      },
      extraLines: this.#statsExtra(),
    });
  }

  /** Clusters and hosts with health and per-host request counters (admin /clusters). */
  clustersView(): ClusterStatus[] {
    return [...this.#clusters.values()].map((c) => ({
      name: c.name,
      hosts: c.hosts.map((h) => {
        let cxActive = 0;
        for (const p of h.pools()) cxActive += p.connections.length;
        return { address: h.address, port: h.port, healthy: h.edsHealthy, ejected: h.ejected, weight: h.weight, cxActive, stats: { ...h.stats } };
      }),
    }));
  }

  /** Writes out buffered access-log lines and spans (tests; shutdown does it too). */
  flushObservability(): Promise<void> {
    return this.#observability.flush();
  }

  /**
   * Admin /drain_listeners: stop accepting on every listener (or only INBOUND ones); with
   * `graceful`, connections close once their requests are answered. The admin stays up.
   */
  drainListeners(opts: { graceful: boolean; inboundOnly: boolean }): void {
    for (const l of this.#listeners.values()) {
      if (opts.inboundOnly && l.compiled.source.traffic_direction !== 'INBOUND') continue;
      l.server?.close();
      if (opts.graceful) for (const c of l.connections) c.drain();
    }
    logger.info(opts, 'admin: listeners drained');
  }

  /**
   * Graceful shutdown: stop accepting, drain every connection (no new request taken, every
   * request read answered, each connection closed once it has nothing in flight), and close
   * as soon as the last connection closed; `timeoutMs` is only the last resort.
   */
  async drain(timeoutMs = this.config.settings.drainTimeoutMs): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const drained = Promise.all([...this.#listeners.values()].map((l) => l.closeAndDrain())).then(() => true);
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const clean = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!clean) {
      const conns = [...this.#listeners.values()].flatMap((l) => [...l.connections]);
      logger.warn({ connections: conns.length, requests: conns.reduce((n, c) => n + c.inflight, 0) }, 'drain timeout: closing connections with requests in flight');
    } else {
      logger.info({ ms: Date.now() - t0 }, 'drained: every connection closed');
    }
    await this.close();
  }

  async close(): Promise<void> {
    for (const l of this.#listeners.values()) l.close();
    this.#overload.close();
    for (const c of this.#clusters.values()) c.close();
    this.#deadlines.clear();
    await this.#admin?.close();
    await this.#observability.close();
  }

  #adminSource(): import('./admin/admin-server.js').AdminSource {
    return {
      ready: () => !this.#draining,
      configDump: () => ({
        configs: [
          { '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: this.config.bootstrap },
          {
            '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.admin.v1alpha.RoutesConfigDump',
            static_route_configs: [...this.#listeners.values()].flatMap((l) =>
              l.metaRuntimes().map((rt) => ({
                route_config: { '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration', ...rt.routes.current.source },
              })),
            ),
          },
          ...this.#configDumpExtra(),
        ],
      }),
      statsSnapshot: () => this.statsSnapshot(),
      memory: () => ({ total: processMemory(), processes: 1 }),
      clusters: () => this.clustersView(),
      drainListeners: (opts) => this.drainListeners(opts),
      listeners: () => this.listenerAddresses(),
      serverInfo: () => ({
        version: VERSION,
        state: this.#draining ? 'DRAINING' : 'LIVE',
        uptime_current_epoch: `${Math.floor((Date.now() - this.#startedAt) / 1000)}s`,
        node: this.config.bootstrap.node ?? {},
      }),
    };
  }
}

import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { AdminServer } from './admin/admin-server.js';
import type { ClusterStatus } from './admin/clusters-view.js';
import type { CompiledCluster, CompiledConfig } from './config/compile.js';
import type { CompiledListener } from './config/compile-listener.js';
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
import type { RouteTable } from './route/route-table.js';
import { OverloadManager } from './overload/overload-manager.js';
import type { Refusal } from './overload/overload-manager.js';
import { ListenerStats } from './stats.js';
import { Cluster } from './upstream/cluster.js';
import { DEFAULT_POLICY } from './upstream/cluster-policy.js';
import { TlsRuntime } from './tls/tls-runtime.js';
import { certsView, secretsConfigDump } from './tls/certs-view.js';
import { newTlsAcceptStats } from './tls/downstream-tls.js';
import { acceptConnection } from './tls/listener-accept.js';
import type { AcceptStats, ChainSelection } from './tls/listener-accept.js';
import { plaintextPeer } from './tls/downstream-peer.js';

const VERSION = '0.1.0';

/**
 * One listening socket and the connections it accepted. `runtime` and `compiled` are
 * replaced by a listener update on the same address: the socket stays bound (Node has no
 * working reusePort, spec/xds.md §5.2), new connections take the new runtime, and the ones
 * accepted before keep theirs until they are drained.
 */
class Listener {
  runtime: ListenerRuntime;
  compiled: CompiledListener;
  readonly server: net.Server;
  readonly connections = new Set<DownstreamConnection>();
  /** Idle, frame-read and drain timers of every connection: one periodic sweep. */
  readonly #sweeper = new ConnectionSweeper(this.connections);
  /** The port bound by listen(), kept so that it can be shown after the socket closed. */
  #port: number;
  /** Called when the last connection of a closed listener ends (drains wait for it). */
  #onEmpty: (() => void) | undefined;
  /** Handshakes and refusals of TLS connections (Envoy's `listener.<name>.ssl.*`). */
  readonly acceptStats: AcceptStats = { ...newTlsAcceptStats(), noFilterChainMatch: 0 };

  constructor(compiled: CompiledListener, runtime: ListenerRuntime, overload: OverloadManager) {
    this.compiled = compiled;
    this.runtime = runtime;
    this.#port = compiled.port;
    // One callback for every connection's end, not a closure per connection.
    const forget = (c: DownstreamConnection): void => {
      if (this.connections.delete(c)) overload.activeConnections--;
      if (this.connections.size === 0) this.#onEmpty?.();
    };
    this.server = net.createServer({ noDelay: true }, (socket) => {
      const refusal = overload.admit(this.connections.size);
      if (refusal !== undefined) {
        this.#refuse(socket, refusal);
        return;
      }
      const runtime = this.runtime;
      if (runtime.chainSelection === undefined) {
        overload.activeConnections++;
        this.connections.add(new DownstreamConnection(socket, runtime, forget, plaintextPeer(socket)));
        return;
      }
      socket.on('error', ignore);
      acceptConnection(socket, runtime.chainSelection, this.acceptStats, (served, peer) => {
        overload.activeConnections++;
        this.connections.add(new DownstreamConnection(served, runtime, forget, peer));
      });
    });
    this.retime();
  }

  /** Closes a connection over a limit at once (Envoy accepts, counts and closes it too). */
  #refuse(socket: net.Socket, refusal: Refusal): void {
    const stats = this.runtime.stats;
    if (refusal === 'listener_limit') stats.downstream_cx_overflow++;
    else if (refusal === 'global_limit') stats.downstream_global_cx_overflow++;
    else stats.downstream_cx_overload_reject++;
    socket.on('error', ignore);
    socket.destroy();
  }

  /** Sets the sweep interval from the timeouts of the current runtime. */
  retime(): void {
    const r = this.runtime;
    this.#sweeper.start(sweepIntervalMs([r.idleTimeoutMs, r.frameReadTimeoutMs, r.drainGraceMs]));
  }

  async listen(): Promise<void> {
    // Envoy's init manager: a TLS listener binds once its certificates are here (SDS).
    await whenChainsReady(this.runtime);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.compiled.port, this.compiled.host, () => {
        this.server.off('error', reject);
        this.#port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /**
   * Stops accepting and drains every connection (drain-state.ts); resolves once the last one
   * closed, and stops the sweep then. Connections accepted under an older runtime drain the
   * same way.
   */
  async closeAndDrain(): Promise<void> {
    this.server.close();
    for (const c of [...this.connections]) c.drain();
    if (this.connections.size > 0) {
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
    this.server.close();
    for (const c of [...this.connections]) c.close();
    this.#sweeper.stop();
  }

  get port(): number {
    return this.#port;
  }
}

function ignore(): void {}

/** Envoy's init manager: a listener serves once the certificates of all its chains are here. */
async function whenChainsReady(r: ListenerRuntime): Promise<void> {
  await Promise.all((r.chainSelection?.chains ?? []).map((c) => c.tls?.whenReady()));
}

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
  /** Secure contexts and the SDS client of this process (proxy/tls/). */
  readonly tls: TlsRuntime;

  /** Metrics, access logs, tracing: process-wide parts and each listener's observer. */
  readonly #observability: ServerObservability;

  private constructor(config: CompiledConfig) {
    this.config = config;
    this.tls = new TlsRuntime(config.bootstrap);
    const s = config.settings;
    this.#overload = new OverloadManager(s.overload);
    this.#observability = new ServerObservability({
      metricsOn: config.bootstrap.stats_config?.stats_matcher?.reject_all !== true,
      nodeMetadata: config.bootstrap.node?.metadata,
      nodeId: config.bootstrap.node?.id,
      clusterAddress: (name) => {
        const h = config.clusters.find((c) => c.name === name)?.hosts[0];
        return h === undefined ? undefined : `${h.address}:${h.port}`;
      },
    });
    for (const c of config.clusters) {
      this.#clusters.set(c.name, new Cluster(c.name, c.connectTimeoutMs, { connectionsPerHost: s.connectionsPerHost, highWatermark: s.highWatermark, heartbeatMs: s.upstreamHeartbeatMs, keepClientOrder: s.keepClientOrder, tls: this.tls }, c.hosts, c.lb, c.policy, c.transport));
    }
    for (const l of config.listeners) this.#listeners.set(l.name, new Listener(l, this.#runtimeOf(l, l.routeTable, undefined), this.#overload));
  }

  #runtimeOf(l: CompiledListener, routes: RouteTable, previous: ListenerRuntime | undefined): ListenerRuntime {
    const fresh = new ListenerStats(l.protocol, l.statPrefix);
    // Counters survive a listener update that keeps the stat prefix.
    const stats = previous !== undefined && previous.stats.prefix === fresh.prefix ? previous.stats : fresh;
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
      chainSelection: this.#chainSelectionOf(l),
    };
  }

  /** The chains of a listener with their TLS contexts; undefined for one plaintext chain (no per-connection work). */
  #chainSelectionOf(l: CompiledListener): ChainSelection | undefined {
    const { chains, inspect } = l.chains;
    if (!inspect && chains.length === 1 && chains[0]!.transport.kind === 'raw') return undefined;
    return { inspect, chains: chains.map((c) => ({ match: c.match, tls: c.transport.kind === 'tls' ? this.tls.contextFor(c.transport.tls) : undefined })) };
  }

  /**
   * Envoy's /certs: the certificates of every TLS context in use (serial, SANs, validity),
   * never a private key. For the admin server's /certs endpoint.
   */
  certs(): ReturnType<typeof certsView> {
    return certsView(this.tls.contexts());
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
  async upsertListener(compiled: CompiledListener, routes: RouteTable = compiled.routeTable): Promise<void> {
    const old = this.#listeners.get(compiled.name);
    if (old !== undefined && old.compiled.host === compiled.host && old.compiled.port === compiled.port) {
      const before = [...old.connections];
      const runtime = this.#runtimeOf(compiled, routes, old.runtime);
      // New TLS secrets first: until they are here, the old config keeps serving.
      await whenChainsReady(runtime);
      old.runtime = runtime;
      old.compiled = compiled;
      old.retime();
      for (const c of before) c.drain();
      this.#closeAfterDrainTimeout(before);
      logger.info({ listener: compiled.name, draining: before.length }, 'listener updated');
      return;
    }
    const fresh = new Listener(compiled, this.#runtimeOf(compiled, routes, old?.runtime), this.#overload);
    await fresh.listen();
    this.#listeners.set(compiled.name, fresh);
    if (old !== undefined) this.#retire(old);
    logger.info({ listener: compiled.name, address: `${compiled.host}:${fresh.port}` }, old === undefined ? 'listener added' : 'listener moved');
  }

  /** Removes a listener: its socket closes, its connections drain. */
  removeListener(name: string): void {
    const l = this.#listeners.get(name);
    if (l === undefined) return;
    this.#listeners.delete(name);
    this.#retire(l);
    logger.info({ listener: name }, 'listener removed');
  }

  /** Swaps a listener's route table; applies from the next request on every connection. */
  setListenerRoutes(name: string, routes: RouteTable): void {
    const l = this.#listeners.get(name);
    if (l !== undefined) l.runtime.routes.current = routes;
  }

  /** Adds a cluster, or updates its hosts in place (the pools of surviving hosts stay). */
  upsertCluster(c: CompiledCluster): void {
    const existing = this.#clusters.get(c.name);
    const drainMs = this.config.settings.drainTimeoutMs;
    if (existing !== undefined && existing.connectTimeoutMs === c.connectTimeoutMs && (existing.transport?.key ?? '') === (c.transport?.key ?? '')) {
      existing.updateHosts(c.hosts, drainMs);
      existing.setLbConfig(c.lb ?? { policy: 'ROUND_ROBIN' });
      existing.setPolicy(c.policy ?? DEFAULT_POLICY);
      return;
    }
    const s = this.config.settings;
    this.#clusters.set(c.name, new Cluster(c.name, c.connectTimeoutMs, { connectionsPerHost: s.connectionsPerHost, highWatermark: s.highWatermark, heartbeatMs: s.upstreamHeartbeatMs, keepClientOrder: s.keepClientOrder, tls: this.tls }, c.hosts, c.lb, c.policy, c.transport));
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
    void l.closeAndDrain();
    this.#closeAfterDrainTimeout(conns);
  }

  /**
   * The last resort of a drain: closes the drained connections still open after the drain
   * timeout (a connection closes by itself as soon as it has nothing in flight).
   */
  #closeAfterDrainTimeout(conns: DownstreamConnection[]): void {
    if (conns.length === 0) return;
    setTimeout(() => {
      const left = conns.filter((c) => !c.closed);
      if (left.length > 0) logger.warn({ connections: left.length, requests: left.reduce((n, c) => n + c.inflight, 0) }, 'drain timeout: closing connections with requests in flight');
      for (const c of left) c.close();
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
      // Envoy's init manager: static clusters with TLS wait for their SDS secrets before the
      // listeners start, so that no request finds a cluster without its certificate.
      await Promise.all([...server.#clusters.values()].flatMap((c) => c.tlsContexts().map((t) => t.whenReady())));
      for (const l of server.#listeners.values()) {
        await l.listen();
        logger.info({ listener: l.compiled.name, address: `${l.compiled.host}:${l.port}`, codec: l.compiled.codecFactory.name }, 'listener started');
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
    return l.runtime.stats;
  }

  routeStats(listener: string): { name: string; requests: number; responses: number; errors: number; localReplies: number }[] {
    const l = this.#listeners.get(listener);
    if (l === undefined) throw new Error(`no listener named '${listener}'`);
    return l.runtime.routes.current.routes.map((r) => ({ name: r.name, ...r.stats }));
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
      listeners: [...this.#listeners.values()].map((l) => ({ stats: l.runtime.stats, routes: l.runtime.routes.current.routes })),
      clusters: this.#clusters.values(),
      collectExtra: (into) => {
        this.#observability.collect(into);
        this.#overload.collect(into);
        addMemoryGauges(into, processMemory());
        collectFilterStats(into);
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
      l.server.close();
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
    this.tls.close();
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
            static_route_configs: [...this.#listeners.values()].map((l) => ({
              route_config: { '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration', ...l.runtime.routes.current.source },
            })),
          },
          ...this.#configDumpExtra(),
          secretsConfigDump(this.tls.store),
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

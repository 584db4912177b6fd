import type { CompiledConfig } from '../config/compile.js';
import type { CompiledChain, CompiledListener, CompiledMetaChain } from '../config/compile-listener.js';
import { logger } from '../logger.js';
import type { DeadlineQueue } from '../net/deadline-queue.js';
import type { ServerObservability } from '../observability/server-observability.js';
import type { OverloadManager } from '../overload/overload-manager.js';
import { RouteTable } from '../route/route-table.js';
import { ListenerStats } from '../stats.js';
import type { TcpProxySession } from '../tcp-proxy/tcp-proxy-session.js';
import { TcpProxyStats } from '../tcp-proxy/tcp-proxy-stats.js';
import type { Cluster } from '../upstream/cluster.js';
import type { DownstreamConnection } from './downstream-connection.js';
import { filterChainBuilder } from './filter-chain.js';
import { Listener } from './listener.js';
import type { ChainRuntime, ListenerContext } from './listener.js';
import { ListenerAddressIndex } from './listener-hand-off.js';
import type { ListenerRuntime } from './listener-runtime.js';
import { whenChainsReady } from './listener.js';
import type { TlsRuntime } from '../tls/tls-runtime.js';

/** Envoy's /drain_listeners query flags: `inboundonly`, `graceful`, `skip_exit`. */
export interface DrainListenersOptions {
  readonly graceful: boolean;
  readonly inboundOnly: boolean;
  readonly skipExit?: boolean;
}

/** What every listener's runtime shares: process-wide parts owned by the server. */
export interface ListenerManagerDeps {
  readonly config: CompiledConfig;
  readonly overload: OverloadManager;
  readonly observability: ServerObservability;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly deadlines: DeadlineQueue;
  /** Secure contexts (and SDS) for filter chains that terminate TLS. */
  readonly tls: TlsRuntime;
}

/**
 * The listeners of one process by name: adds, updates in place (same address), moves
 * (new address), removes and drains them. A listener update never closes a connection at
 * once: the connections of the old config drain.
 */
export class ListenerManager {
  readonly #listeners = new Map<string, Listener>();
  readonly #deps: ListenerManagerDeps;
  /** Hand-off targets by address (listener-hand-off.ts); rebuilt when listeners change. */
  readonly #index = new ListenerAddressIndex<Listener>();
  readonly #context: ListenerContext;

  constructor(deps: ListenerManagerDeps) {
    this.#deps = deps;
    this.#context = { overload: deps.overload, handOffTarget: (dest, from) => this.#index.find(dest, from) };
    for (const l of deps.config.listeners) this.#listeners.set(l.name, new Listener(l, this.#chainRuntimes(l, undefined, undefined), this.#context));
    this.#reindex();
  }

  #reindex(): void {
    this.#index.rebuild([...this.#listeners.values()].map((l) => ({ host: l.compiled.host, port: l.compiled.port, listener: l })));
  }

  /**
   * The runtime of every chain of a listener. `rdsRoutes`: the MetaRDS table of the chains
   * whose routes come from MetaRDS (the others have theirs inline). Counters survive an update
   * that keeps a chain's stat prefix.
   */
  #chainRuntimes(l: CompiledListener, rdsRoutes: RouteTable | undefined, previous: Listener | undefined): Map<CompiledChain, ChainRuntime> {
    const out = new Map<CompiledChain, ChainRuntime>();
    const oldMeta = previous?.metaRuntimes() ?? [];
    const oldTcp = previous?.tcpRuntimes() ?? [];
    const obs = this.#deps.observability;
    for (const c of [...l.chains, ...(l.defaultChain === undefined ? [] : [l.defaultChain])]) {
      // The chain's DownstreamTlsContext as a secure context (shared by equal specs, SDS-fed).
      const tls = c.transport.kind === 'tls' ? this.#deps.tls.contextFor(c.transport.tls) : undefined;
      if (c.kind === 'meta') {
        const routes = c.meta.rds !== undefined ? (rdsRoutes ?? RouteTable.EMPTY) : c.meta.routeTable;
        out.set(c, { kind: 'meta', runtime: this.#runtimeOf(c.meta, routes, oldMeta), tls });
        continue;
      }
      const prefix = `tcp.${c.tcp.statPrefix}.`;
      const stats = oldTcp.find((r) => r.stats.prefix === prefix)?.stats ?? new TcpProxyStats(c.tcp.statPrefix);
      const accessLogs = c.tcp.accessLogs.map((a) => ({ sink: obs.logSink(a.path), format: a.format }));
      const networkRbac = c.networkRbac.length > 0 ? c.networkRbac : undefined;
      out.set(c, { kind: 'tcp', runtime: { config: c.tcp, stats, clusters: this.#deps.clusters, accessLogs, highWatermark: this.#deps.config.settings.highWatermark }, tls, networkRbac });
    }
    return out;
  }

  #runtimeOf(l: CompiledMetaChain, routes: RouteTable, previous: readonly ListenerRuntime[]): ListenerRuntime {
    const settings = this.#deps.config.settings;
    const fresh = new ListenerStats(l.protocol, l.statPrefix);
    // Counters survive a listener update that keeps the stat prefix.
    const stats = previous.find((r) => r.stats.prefix === fresh.prefix)?.stats ?? fresh;
    // The filters get this server's stats and node before their first instance is made.
    l.filterContext.bind(this.#deps.observability.filterEnvironment);
    return {
      name: l.name,
      codecFactory: l.codecFactory,
      codecContext: l.codecContext,
      routes: { current: routes },
      filters: l.filters,
      networkRbac: l.networkRbac.length > 0 ? l.networkRbac : undefined,
      newFilterChain: filterChainBuilder(l.filters, this.#deps.observability.completersFor(l)),
      stats,
      observer: this.#deps.observability.observerFor(l, stats),
      idleTimeoutMs: l.idleTimeoutMs,
      frameReadTimeoutMs: settings.frameReadTimeoutMs,
      drainGraceMs: settings.drainGraceMs,
      overload: this.#deps.overload,
      requestTimeoutMs: l.requestTimeoutMs,
      streamIdleTimeoutMs: l.proxyConfig.stream_idle_timeout,
      highWatermark: settings.highWatermark,
      onewayMethods: l.onewayMethods,
      clusters: this.#deps.clusters,
      deadlines: this.#deps.deadlines,
    };
  }

  /** Binds every listener of the static config, in order; rejects on the first that cannot bind. */
  async listenAll(): Promise<void> {
    for (const l of this.#listeners.values()) {
      await l.listen();
      const codecs = l.compiled.metaChains.map((m) => m.codecFactory.name);
      logger.info({ listener: l.compiled.name, address: l.address, bound: l.compiled.bindToPort, codecs, tcpProxyChains: l.tcpRuntimes().length }, 'listener started');
    }
  }

  /** Every listener now serving (for stats, admin and drains). */
  all(): IterableIterator<Listener> {
    return this.#listeners.values();
  }

  names(): string[] {
    return [...this.#listeners.keys()];
  }

  get(name: string): Listener | undefined {
    return this.#listeners.get(name);
  }

  /** The listener of that name; throws when there is none (tests and the quickstart ask by name). */
  expect(name: string): Listener {
    const l = this.#listeners.get(name);
    if (l === undefined) throw new Error(`no listener named '${name}'`);
    return l;
  }

  /**
   * Adds a listener, or updates the one of that name (xDS LDS). On the same address the
   * socket stays bound and only the connections accepted before the update are drained;
   * on a new address the new socket is bound first, then the old listener is drained.
   */
  async upsert(compiled: CompiledListener, routes?: RouteTable): Promise<void> {
    const old = this.#listeners.get(compiled.name);
    const sameSocket =
      old !== undefined &&
      old.compiled.host === compiled.host &&
      old.compiled.port === compiled.port &&
      old.compiled.bindToPort === compiled.bindToPort &&
      old.compiled.transparent === compiled.transparent;
    if (old !== undefined && sameSocket) {
      const chains = this.#chainRuntimes(compiled, routes, old);
      // New TLS secrets first: until they are here, the old config keeps serving.
      await whenChainsReady(chains.values());
      const before = [...old.connections];
      const tcpBefore = [...old.tcpSessions];
      old.chains = chains;
      old.compiled = compiled;
      old.retime();
      for (const c of before) c.drain();
      this.#closeAfterDrainTimeout(before, tcpBefore);
      this.#reindex();
      logger.info({ listener: compiled.name, draining: before.length + tcpBefore.length }, 'listener updated');
      return;
    }
    const fresh = new Listener(compiled, this.#chainRuntimes(compiled, routes, old), this.#context);
    await fresh.listen();
    this.#listeners.set(compiled.name, fresh);
    this.#reindex();
    if (old !== undefined) this.#retire(old);
    logger.info({ listener: compiled.name, address: fresh.address }, old === undefined ? 'listener added' : 'listener moved');
  }

  /** Removes a listener: its socket closes, its connections drain. */
  remove(name: string): void {
    const l = this.#listeners.get(name);
    if (l === undefined) return;
    this.#listeners.delete(name);
    this.#reindex();
    this.#retire(l);
    logger.info({ listener: name }, 'listener removed');
  }

  /**
   * Swaps the route table of a listener's MetaRDS chains; applies from the next request on
   * every connection. A listener without MetaRDS chains (inline routes, swapped through the
   * library's MeltemiServer.setListenerRoutes) gets it on every MetaProtocol chain.
   */
  setRoutes(name: string, routes: RouteTable): void {
    const l = this.#listeners.get(name);
    if (l === undefined) return;
    const meta: { routes: { current: RouteTable } }[] = [];
    const rds: { routes: { current: RouteTable } }[] = [];
    for (const [chain, rt] of l.chains) {
      if (chain.kind !== 'meta' || rt.kind !== 'meta') continue;
      meta.push(rt.runtime);
      if (chain.meta.rds !== undefined) rds.push(rt.runtime);
    }
    for (const r of rds.length > 0 ? rds : meta) r.routes.current = routes;
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
    }, this.#deps.config.settings.drainTimeoutMs).unref();
  }

  /**
   * Admin /drain_listeners, as Envoy's (envoy source/server/admin/listeners_handler.cc), on
   * every listener or, with `inboundOnly`, on those with traffic_direction INBOUND:
   * - `graceful`: every connection is told to drain (now, and as it is accepted); the
   *   listeners keep accepting for the drain time (--drain-time-s), then stop, unless
   *   `skipExit`. A second graceful call changes nothing.
   * - otherwise: the listeners stop accepting at once and their connections drain.
   */
  drainListeners(opts: DrainListenersOptions): void {
    const chosen = [...this.#listeners.values()].filter((l) => !opts.inboundOnly || l.direction === 'INBOUND');
    for (const l of chosen) {
      if (!opts.graceful) {
        l.stopAccepting();
        l.drainConnections();
        continue;
      }
      l.drainGracefully();
      if (!opts.skipExit) setTimeout(() => l.stopAccepting(), this.#deps.config.settings.drainTimeoutMs).unref();
    }
    logger.info({ ...opts, listeners: chosen.map((l) => l.compiled.name) }, 'admin: listeners drained');
  }

  /** Open downstream connections over every listener (the drain ends when it reaches 0). */
  get activeConnections(): number {
    let n = 0;
    for (const l of this.#listeners.values()) n += l.connections.size;
    return n;
  }

  /**
   * The shutdown drain, as istio-proxy's: listeners that are not OUTBOUND stop accepting and
   * drain their connections, while OUTBOUND listeners keep serving the application, which
   * is shutting down too. Resolves true as soon as no connection is open on any listener
   * (Istio's EXIT_ON_ZERO_ACTIVE_CONNECTIONS), false when `timeoutMs` passed first (those
   * left are then reported).
   */
  async drainAll(timeoutMs: number): Promise<boolean> {
    for (const l of this.#listeners.values()) {
      if (l.direction === 'OUTBOUND') continue;
      l.stopAccepting();
      l.drainConnections();
    }
    const clean = await new Promise<boolean>((resolve) => {
      const deadline = Date.now() + timeoutMs;
      const poll = (): void => {
        if (this.activeConnections === 0) resolve(true);
        else if (Date.now() >= deadline) resolve(false);
        else setTimeout(poll, Math.min(50, Math.max(1, deadline - Date.now()))).unref();
      };
      poll();
    });
    if (!clean) {
      const conns = [...this.#listeners.values()].flatMap((l) => [...l.connections]);
      logger.warn({ connections: conns.length, requests: conns.reduce((n, c) => n + c.inflight, 0) }, 'drain timeout: closing connections with requests in flight');
    }
    return clean;
  }

  /** Closes every socket and connection now. */
  close(): void {
    for (const l of this.#listeners.values()) l.close();
  }
}

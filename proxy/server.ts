import { AdminServer } from './admin/admin-server.js';
import { listenerAddresses, serverAdminSource } from './admin/admin-source.js';
import type { ClusterStatus } from './admin/clusters-view.js';
import type { CompiledCluster, CompiledConfig } from './config/compile.js';
import type { CompiledListener } from './config/compile-listener.js';
import { ListenerManager } from './downstream/listener-manager.js';
import type { DrainListenersOptions } from './downstream/listener-manager.js';
import { startHttpListeners } from './http/http-listener.js';
import type { HttpListener } from './http/http-listener.js';
import { logger } from './logger.js';
import { DeadlineQueue } from './net/deadline-queue.js';
import { ServerObservability } from './observability/server-observability.js';
import { collectServerStats } from './observability/server-stats.js';
import type { StatsSnapshot } from './observability/stats-snapshot.js';
import type { RouteTable } from './route/route-table.js';
import { OverloadManager } from './overload/overload-manager.js';
import type { ServerState } from './server-state.js';
import { MeltemiXds } from './dynamic/meltemi-xds.js';
import type { ListenerStats } from './stats.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import { TlsRuntime } from './tls/tls-runtime.js';
import { certsView } from './tls/certs-view.js';
import { registerTlsAdmin } from './tls/tls-admin.js';
import type { HostConnectionStatus } from './upstream/cluster-manager.js';

/**
 * A running proxy: the facade over the listener manager (downstream/listener-manager.ts),
 * the cluster manager (upstream/cluster-manager.ts), the admin server (admin/) and the
 * process-wide parts they share (overload, observability, deadlines).
 */
export class MeltemiServer {
  readonly config: CompiledConfig;
  readonly #listeners: ListenerManager;
  readonly #clusters: ClusterManager;
  readonly #deadlines = new DeadlineQueue();
  /** Connection limits and heap watermarks, shared by every listener. */
  readonly #overload: OverloadManager;
  /** Metrics, access logs, tracing: process-wide parts and each listener's observer. */
  readonly #observability: ServerObservability;
  #admin: AdminServer | undefined;
  /** The bootstrap's static HTTP listeners (Istio's 15090 and 15021). */
  #http: HttpListener[] = [];
  #draining = false;
  readonly #startedAt = Date.now();
  #dumpXds: () => MeltemiXds | undefined = () => undefined;
  /**
   * The init state: LIVE once the listeners are bound for a static bootstrap; with xDS,
   * PRE_INITIALIZING until dynamic/dynamic-config.ts attaches its init manager.
   */
  #initState: () => ServerState;
  /** What POST /quitquitquit does: the CLI's shutdown; a drain and close without it. */
  #quit: () => void = () => void this.drain();
  /** Secure contexts and the SDS client of this process (proxy/tls/). */
  readonly tls: TlsRuntime;
  /** Takes this server's certificates and secrets out of /certs and /config_dump again. */
  #dropTlsAdmin: () => void = () => undefined;
  #statsExtra: () => string[] = () => [];

  private constructor(config: CompiledConfig) {
    this.config = config;
    const waitsForXds = MeltemiXds.wanted(config.bootstrap, config.listeners);
    this.#initState = () => (waitsForXds ? 'PRE_INITIALIZING' : 'LIVE');
    this.tls = new TlsRuntime(config.bootstrap);
    this.#overload = new OverloadManager(config.settings.overload);
    this.#observability = new ServerObservability({
      metricsOn: config.bootstrap.stats_config?.stats_matcher?.reject_all !== true,
      nodeMetadata: config.bootstrap.node?.metadata,
      nodeId: config.bootstrap.node?.id,
      clusterAddress: (name) => {
        const h = config.clusters.find((c) => c.name === name)?.hosts[0];
        return h === undefined ? undefined : `${h.address}:${h.port}`;
      },
    });
    this.#clusters = new ClusterManager(config.settings, config.clusters, this.tls);
    this.#listeners = new ListenerManager({ config, overload: this.#overload, observability: this.#observability, clusters: this.#clusters.clusters, deadlines: this.#deadlines, tls: this.tls });
  }

  /** Starts every listener and the admin server; rejects (after cleaning up) if one cannot bind. */
  static async start(config: CompiledConfig): Promise<MeltemiServer> {
    const server = new MeltemiServer(config);
    // /certs and the SecretsConfigDump show this server's TLS contexts and SDS secrets.
    server.#dropTlsAdmin = registerTlsAdmin(server.tls);
    try {
      // Static clusters with TLS wait for their SDS secrets before the listeners start, so
      // that no request finds a cluster without its certificate.
      await server.#clusters.whenTlsReady();
      await server.#listeners.listenAll();
      server.#http = await startHttpListeners(config.httpListeners ?? []);
      if (config.admin !== undefined) server.#admin = await AdminServer.start(config.admin.host, config.admin.port, server.#adminSource());
    } catch (err) {
      await server.close();
      throw err;
    }
    for (const w of config.warnings) logger.warn(w);
    return server;
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
    return this.#listeners.names();
  }

  /** The compiled config a listener now serves with (undefined when there is no such listener). */
  listenerConfig(name: string): CompiledListener | undefined {
    return this.#listeners.get(name)?.compiled;
  }

  /**
   * Adds a listener, or updates the one of that name (xDS LDS); see ListenerManager.upsert.
   * `routes` is the table to start with (the RDS table already known, or the inline one).
   */
  upsertListener(compiled: CompiledListener, routes?: RouteTable): Promise<void> {
    return this.#listeners.upsert(compiled, routes);
  }

  /** Removes a listener: its socket closes, its connections drain. */
  removeListener(name: string): void {
    this.#listeners.remove(name);
  }

  /** Swaps a listener's route table; applies from the next request on every connection. */
  setListenerRoutes(name: string, routes: RouteTable): void {
    this.#listeners.setRoutes(name, routes);
  }

  /** Adds a cluster, or updates its hosts in place (the pools of surviving hosts stay). */
  upsertCluster(c: CompiledCluster): void {
    this.#clusters.upsert(c);
  }

  /** Removes a cluster; its upstream connections close once their requests are answered. */
  removeCluster(name: string): void {
    this.#clusters.remove(name);
  }

  /** Names of the clusters now known. */
  clusterNames(): string[] {
    return this.#clusters.names();
  }

  /** The xDS client whose resources, versions and rejections /config_dump shows. */
  setConfigDumpXds(xds: () => MeltemiXds | undefined): void {
    this.#dumpXds = xds;
  }

  /** Where the init state comes from (the xDS init manager: INITIALIZING until the first config is applied). */
  setInitState(state: () => ServerState): void {
    this.#initState = state;
  }

  /** What POST /quitquitquit starts (the CLI's own shutdown sequence). */
  setQuitHandler(quit: () => void): void {
    this.#quit = quit;
  }

  /** Envoy's server state: DRAINING during shutdown, else the init state. */
  serverState(): ServerState {
    return this.#draining ? 'DRAINING' : this.#initState();
  }

  /** Adds lines to /stats (the xDS client's counters). */
  setStatsExtra(extra: () => string[]): void {
    this.#statsExtra = extra;
  }

  /** Every listener with the address it is bound to (the real port when the config said 0). */
  listenerAddresses(): { name: string; address: string }[] {
    return listenerAddresses(this.#listeners);
  }

  /** The bound port of a MetaProtocol or static HTTP listener. */
  listenerPort(name: string): number {
    const http = this.#http.find((h) => h.compiled.name === name);
    return http !== undefined ? http.port : this.#listeners.expect(name).port;
  }

  get adminPort(): number | undefined {
    return this.#admin?.port;
  }

  /** Counters of a listener (for tests and the quickstart summary). */
  listenerStats(name: string): ListenerStats {
    const rt = this.#listeners.expect(name).metaRuntimes()[0];
    if (rt === undefined) throw new Error(`listener '${name}' has no MetaProtocol chain`);
    return rt.stats;
  }

  routeStats(listener: string): { name: string; requests: number; responses: number; errors: number; local_replies: number }[] {
    return this.#listeners
      .expect(listener)
      .metaRuntimes()
      .flatMap((rt) => rt.routes.current.routes.map((r) => ({ name: r.name, ...r.stats })));
  }

  /** Every host of every cluster with its upstream connections and requests in flight. */
  clusterStatus(): HostConnectionStatus[] {
    return this.#clusters.connectionStatus();
  }

  /**
   * Every stat of this process as JSON (what a worker sends to the primary; the admin
   * renders it). Empty with `stats_config.stats_matcher.reject_all`.
   */
  statsSnapshot(): StatsSnapshot {
    return collectServerStats({
      metricsOn: this.#observability.metricsOn,
      listeners: this.#listeners.all(),
      clusters: this.#clusters.clusters.values(),
      parts: [this.#observability, this.#overload, ...this.#http],
      extraLines: this.#statsExtra(),
    });
  }

  /** Clusters and hosts with health and per-host request counters (admin /clusters). */
  clustersView(): ClusterStatus[] {
    return this.#clusters.status();
  }

  /** Writes out buffered access-log lines and spans (tests; shutdown does it too). */
  flushObservability(): Promise<void> {
    return this.#observability.flush();
  }

  /**
   * Admin /drain_listeners: stop accepting on every listener (or only INBOUND ones); with
   * `graceful`, connections close once their requests are answered. The admin stays up.
   */
  drainListeners(opts: DrainListenersOptions): void {
    this.#listeners.drainListeners(opts);
  }

  /**
   * Graceful shutdown, as istio-proxy's: listeners that are not OUTBOUND stop accepting and
   * drain every connection (no new request taken, every request read answered, each
   * connection closed once it has nothing in flight); OUTBOUND listeners keep serving the
   * application meanwhile. Closes as soon as no connection is open anywhere; `timeoutMs`
   * (--drain-time-s) is the last resort.
   */
  async drain(timeoutMs = this.config.settings.drainTimeoutMs): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    const t0 = Date.now();
    if (await this.#listeners.drainAll(timeoutMs)) logger.info({ ms: Date.now() - t0 }, 'drained: every connection closed');
    await this.close();
  }

  async close(): Promise<void> {
    this.#listeners.close();
    this.#overload.close();
    this.#clusters.close();
    this.#dropTlsAdmin();
    this.tls.close();
    this.#deadlines.clear();
    await Promise.all(this.#http.map((h) => h.close()));
    await this.#admin?.close();
    await this.#observability.close();
  }

  #adminSource(): import('./admin/admin-server.js').AdminSource {
    return serverAdminSource({
      config: this.config,
      listeners: this.#listeners,
      clusters: this.#clusters,
      startedAt: this.#startedAt,
      serverState: () => this.serverState(),
      quit: () => this.#quit(),
      statsSnapshot: () => this.statsSnapshot(),
      dumpXds: () => this.#dumpXds(),
      httpListeners: () => this.#http,
    });
  }
}

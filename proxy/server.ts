import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { AdminServer } from './admin/admin-server.js';
import type { CompiledConfig } from './config/compile.js';
import type { CompiledListener } from './config/compile-listener.js';
import { DownstreamConnection } from './downstream/downstream-connection.js';
import type { ListenerRuntime } from './downstream/listener-runtime.js';
import { logger } from './logger.js';
import { DeadlineQueue } from './net/deadline-queue.js';
import { ListenerStats } from './stats.js';
import { Cluster } from './upstream/cluster.js';

const VERSION = '0.1.0';

/** One listening socket and the connections it accepted. */
class Listener {
  readonly runtime: ListenerRuntime;
  readonly compiled: CompiledListener;
  readonly server: net.Server;
  readonly connections = new Set<DownstreamConnection>();

  constructor(compiled: CompiledListener, runtime: ListenerRuntime) {
    this.compiled = compiled;
    this.runtime = runtime;
    this.server = net.createServer({ noDelay: true }, (socket) => {
      const conn = new DownstreamConnection(socket, runtime, (c) => this.connections.delete(c));
      this.connections.add(conn);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.compiled.port, this.compiled.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
}

/** A running proxy: listeners, clusters and the admin server of one compiled config. */
export class MeltemiServer {
  readonly config: CompiledConfig;
  readonly #listeners = new Map<string, Listener>();
  readonly #clusters = new Map<string, Cluster>();
  readonly #deadlines = new DeadlineQueue();
  #admin: AdminServer | undefined;
  #draining = false;
  readonly #startedAt = Date.now();

  private constructor(config: CompiledConfig) {
    this.config = config;
    const s = config.settings;
    for (const c of config.clusters) {
      this.#clusters.set(c.name, new Cluster(c.name, c.connectTimeoutMs, { connectionsPerHost: s.connectionsPerHost, highWatermark: s.highWatermark }, c.hosts));
    }
    for (const l of config.listeners) {
      const runtime: ListenerRuntime = {
        name: l.name,
        codecFactory: l.codecFactory,
        codecContext: l.codecContext,
        routes: { current: l.routeTable },
        filters: l.filters,
        stats: new ListenerStats(l.protocol, l.statPrefix),
        idleTimeoutMs: l.idleTimeoutMs,
        requestTimeoutMs: l.requestTimeoutMs,
        highWatermark: s.highWatermark,
        clusters: this.#clusters,
        deadlines: this.#deadlines,
      };
      this.#listeners.set(l.name, new Listener(l, runtime));
    }
  }

  /** Starts every listener and the admin server; rejects (after cleaning up) if one cannot bind. */
  static async start(config: CompiledConfig): Promise<MeltemiServer> {
    const server = new MeltemiServer(config);
    try {
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
   * Graceful shutdown: stop accepting, let requests in flight finish (up to `timeoutMs`),
   * then close everything.
   */
  async drain(timeoutMs = this.config.settings.drainTimeoutMs): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    for (const l of this.#listeners.values()) l.server.close();
    const conns = [...this.#listeners.values()].flatMap((l) => [...l.connections]);
    for (const c of conns) c.drain();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && conns.some((c) => c.inflight > 0)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const left = conns.reduce((n, c) => n + c.inflight, 0);
    if (left > 0) logger.warn({ requests: left }, 'drain timeout: closing connections with requests in flight');
    await this.close();
  }

  async close(): Promise<void> {
    for (const l of this.#listeners.values()) {
      l.server.close();
      for (const c of [...l.connections]) c.close();
    }
    for (const c of this.#clusters.values()) c.close();
    this.#deadlines.clear();
    await this.#admin?.close();
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
        ],
      }),
      statsLines: () => {
        const lines: string[] = [];
        for (const l of this.#listeners.values()) {
          lines.push(...l.runtime.stats.lines());
          for (const r of l.runtime.routes.current.routes) {
            for (const [k, v] of Object.entries(r.stats)) lines.push(`${l.runtime.stats.prefix}route.${r.name}.${k}: ${v}`);
          }
        }
        return lines.sort();
      },
      clustersText: () =>
        this.clusterStatus()
          .flatMap((h) => [
            `${h.cluster}::${h.host}::health_flags::${h.healthy ? 'healthy' : '/failed_eds_health'}`,
            `${h.cluster}::${h.host}::cx_active::${h.connections}`,
            `${h.cluster}::${h.host}::rq_active::${h.pending}`,
          ])
          .join('\n') + '\n',
      listeners: () => [...this.#listeners.values()].map((l) => ({ name: l.compiled.name, address: `${l.compiled.host}:${l.port}` })),
      serverInfo: () => ({
        version: VERSION,
        state: this.#draining ? 'DRAINING' : 'LIVE',
        uptime_current_epoch: `${Math.floor((Date.now() - this.#startedAt) / 1000)}s`,
        node: this.config.bootstrap.node ?? {},
      }),
    };
  }
}

/**
 * Applies DynamicSnapshots to a running MeltemiServer, changing only what changed (by
 * content, xds-client/resource-equality.ts: a Struct's key order or a field written at its
 * default is no change):
 * clusters first (hosts updated in place), then route tables (swapped by reference, so no
 * connection notices), then listeners (an unchanged listener is left alone; a changed one
 * keeps its socket and drains the connections of the old config; a removed one drains).
 * Snapshots are applied one at a time, in order.
 */
import type { DynamicSnapshot } from '../../xds-client/snapshot.js';
import { compileListener } from '../config/compile-listener.js';
import { takeWarnings } from '../../config/schema.js';
import { logger } from '../logger.js';
import type { CompiledCluster } from '../config/compile.js';
import type { ListenerConfig, RouteConfigurationConfig } from '../config/bootstrap-schema.js';
import { RouteTable } from '../route/route-table.js';
import type { MeltemiServer } from '../server.js';
import { sameContent } from '../../xds-client/resource-equality.js';
import { listenerContent } from './listener-content.js';

/** How long a new listener waits for its first MetaRDS table before it starts anyway (Envoy's initial_fetch_timeout). */
export const WARMING_TIMEOUT_MS = 15_000;

export class SnapshotApplier {
  readonly #server: MeltemiServer;
  readonly #staticListeners: ReadonlySet<string>;
  readonly #staticClusters: ReadonlySet<string>;
  /**
   * What is applied, to skip what did not change: a listener as received (`raw`, for a cheap
   * first check) and as parsed (`content`, which also sees through encoding differences).
   */
  readonly #listeners = new Map<string, { raw: ListenerConfig; content: unknown }>();
  readonly #clusters = new Map<string, CompiledCluster>();
  readonly #routes = new Map<string, { config: RouteConfigurationConfig; table: RouteTable }>();
  /** Listeners (re)started and clusters (re)built, for tests and stats: an unchanged resource counts nothing. */
  listenerUpdates = 0;
  clusterUpdates = 0;
  #queue: Promise<void> = Promise.resolve();
  /** New listeners waiting for their first route table, since when. */
  readonly #warming = new Map<string, number>();
  readonly #warmingTimeoutMs: number;
  #last: DynamicSnapshot | undefined;
  /** Snapshots applied (for tests and stats). */
  applied = 0;

  constructor(server: MeltemiServer, warmingTimeoutMs = WARMING_TIMEOUT_MS) {
    this.#server = server;
    this.#warmingTimeoutMs = warmingTimeoutMs;
    this.#staticListeners = new Set(server.listenerNames());
    this.#staticClusters = new Set(server.clusterNames());
  }

  /** Queues a snapshot; resolves once it (and those before it) are applied. */
  apply(snapshot: DynamicSnapshot): Promise<void> {
    this.#queue = this.#queue.then(
      () => this.#apply(snapshot),
      () => this.#apply(snapshot),
    );
    return this.#queue;
  }

  async #apply(snap: DynamicSnapshot): Promise<void> {
    const server = this.#server;
    this.#last = snap;
    // Clusters: add and update before listeners and routes start pointing at them.
    const clusterNames = new Set<string>();
    for (const c of snap.clusters) {
      if (this.#staticClusters.has(c.name)) continue;
      clusterNames.add(c.name);
      const prev = this.#clusters.get(c.name);
      if (prev !== undefined && sameContent(prev, c)) continue;
      server.upsertCluster(c);
      this.clusterUpdates++;
      this.#clusters.set(c.name, c);
    }
    // Route tables: compile the new ones; a table is shared by every listener naming it.
    const routeNames = new Set<string>();
    for (const r of snap.routes) {
      routeNames.add(r.name);
      const prev = this.#routes.get(r.name);
      if (prev !== undefined && sameContent(prev.config, r.config)) continue;
      this.#routes.set(r.name, { config: r.config, table: new RouteTable(r.config) });
    }
    for (const n of [...this.#routes.keys()]) if (!routeNames.has(n)) this.#routes.delete(n);
    // Listeners.
    const listenerNames = new Set<string>();
    for (const l of snap.listeners) {
      if (this.#staticListeners.has(l.name)) {
        logger.warn({ listener: l.name }, 'LDS listener has the name of a static listener; ignored');
        continue;
      }
      listenerNames.add(l.name);
      const prev = this.#listeners.get(l.name);
      if (prev !== undefined && (prev.raw === l.listener || sameContent(prev.raw, l.listener))) {
        prev.raw = l.listener;
        continue;
      }
      const errors: string[] = [];
      const compiled = compileListener(l.listener, `listener ${l.name}`, errors);
      takeWarnings();
      if (compiled === undefined) {
        // The xDS client validated it already; this only happens on a worker with other codecs.
        logger.error({ listener: l.name, errors }, 'cannot apply listener');
        continue;
      }
      const content = listenerContent(compiled);
      if (prev !== undefined && sameContent(prev.content, content)) {
        // The same config in another encoding: the running listener stays as it is.
        prev.raw = l.listener;
        continue;
      }
      const rdsTable = compiled.rds !== undefined ? this.#routes.get(compiled.rds.routeConfigName)?.table : undefined;
      if (compiled.rds !== undefined && rdsTable === undefined && prev === undefined && this.#stillWarming(l.name)) continue;
      this.#warming.delete(l.name);
      const table = compiled.rds !== undefined ? (rdsTable ?? RouteTable.EMPTY) : compiled.routeTable;
      try {
        await server.upsertListener(compiled, table);
        this.listenerUpdates++;
        this.#listeners.set(l.name, { raw: l.listener, content });
      } catch (err) {
        logger.error({ listener: l.name, err: (err as Error).message }, 'cannot start listener');
      }
    }
    for (const n of [...this.#warming.keys()]) if (!listenerNames.has(n)) this.#warming.delete(n);
    for (const n of [...this.#listeners.keys()]) {
      if (listenerNames.has(n)) continue;
      server.removeListener(n);
      this.#listeners.delete(n);
    }
    // Route hot swap: every listener (static ones too) whose routes come from MetaRDS.
    for (const name of server.listenerNames()) {
      const rds = server.listenerConfig(name)?.rds;
      if (rds === undefined) continue;
      server.setListenerRoutes(name, this.#routes.get(rds.routeConfigName)?.table ?? RouteTable.EMPTY);
    }
    for (const n of [...this.#clusters.keys()]) {
      if (clusterNames.has(n)) continue;
      server.removeCluster(n);
      this.#clusters.delete(n);
    }
    this.applied++;
  }

  /**
   * A new listener whose routes come from MetaRDS takes traffic once its first table is
   * there (Envoy warms listeners the same way), or after the warming timeout.
   */
  #stillWarming(name: string): boolean {
    const since = this.#warming.get(name);
    if (since === undefined) {
      this.#warming.set(name, Date.now());
      setTimeout(() => {
        if (this.#warming.has(name) && this.#last !== undefined) void this.apply(this.#last);
      }, this.#warmingTimeoutMs).unref();
      return true;
    }
    // A timer may fire a few milliseconds early.
    return Date.now() - since < this.#warmingTimeoutMs - 10;
  }
}

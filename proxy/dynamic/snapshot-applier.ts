/**
 * Applies DynamicSnapshots to a running MeltemiServer, changing only what changed:
 * clusters first (hosts updated in place), then route tables (swapped by reference, so no
 * connection notices), then listeners (an unchanged listener is left alone; a changed one
 * keeps its socket and drains the connections of the old config; a removed one drains).
 * Snapshots are applied one at a time, in order.
 */
import type { DynamicSnapshot } from '../../xds-client/snapshot.js';
import { compileListener } from '../config/compile-listener.js';
import { takeWarnings } from '../config/schema.js';
import { logger } from '../logger.js';
import { RouteTable } from '../route/route-table.js';
import type { MeltemiServer } from '../server.js';

/** How long a new listener waits for its first MetaRDS table before it starts anyway (Envoy's initial_fetch_timeout). */
export const WARMING_TIMEOUT_MS = 15_000;

export class SnapshotApplier {
  readonly #server: MeltemiServer;
  readonly #staticListeners: ReadonlySet<string>;
  readonly #staticClusters: ReadonlySet<string>;
  /** JSON of what is applied, to skip what did not change. */
  readonly #listenerJson = new Map<string, string>();
  readonly #clusterJson = new Map<string, string>();
  readonly #routes = new Map<string, { json: string; table: RouteTable }>();
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
      const json = JSON.stringify(c);
      if (this.#clusterJson.get(c.name) === json) continue;
      server.upsertCluster(c);
      this.#clusterJson.set(c.name, json);
    }
    // Route tables: compile the new ones; a table is shared by every listener naming it.
    const routeNames = new Set<string>();
    for (const r of snap.routes) {
      routeNames.add(r.name);
      const json = JSON.stringify(r.config);
      if (this.#routes.get(r.name)?.json === json) continue;
      this.#routes.set(r.name, { json, table: new RouteTable(r.config) });
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
      const json = JSON.stringify(l.listener);
      if (this.#listenerJson.get(l.name) === json) continue;
      const errors: string[] = [];
      const compiled = compileListener(l.listener, `listener ${l.name}`, errors);
      takeWarnings();
      if (compiled === undefined) {
        // The xDS client validated it already; this only happens on a worker with other codecs.
        logger.error({ listener: l.name, errors }, 'cannot apply listener');
        continue;
      }
      const rdsTable = compiled.rds !== undefined ? this.#routes.get(compiled.rds.routeConfigName)?.table : undefined;
      if (compiled.rds !== undefined && rdsTable === undefined && !this.#listenerJson.has(l.name) && this.#stillWarming(l.name)) continue;
      this.#warming.delete(l.name);
      const table = compiled.rds !== undefined ? (rdsTable ?? RouteTable.EMPTY) : compiled.routeTable;
      try {
        await server.upsertListener(compiled, table);
        this.#listenerJson.set(l.name, json);
      } catch (err) {
        logger.error({ listener: l.name, err: (err as Error).message }, 'cannot start listener');
      }
    }
    for (const n of [...this.#warming.keys()]) if (!listenerNames.has(n)) this.#warming.delete(n);
    for (const n of [...this.#listenerJson.keys()]) {
      if (listenerNames.has(n)) continue;
      server.removeListener(n);
      this.#listenerJson.delete(n);
    }
    // Route hot swap: every listener (static ones too) whose routes come from MetaRDS.
    for (const name of server.listenerNames()) {
      const rds = server.listenerConfig(name)?.rds;
      if (rds === undefined) continue;
      server.setListenerRoutes(name, this.#routes.get(rds.routeConfigName)?.table ?? RouteTable.EMPTY);
    }
    for (const n of [...this.#clusterJson.keys()]) {
      if (clusterNames.has(n)) continue;
      server.removeCluster(n);
      this.#clusterJson.delete(n);
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

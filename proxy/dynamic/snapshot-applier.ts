/**
 * Applies snapshots to a running MeltemiServer, changing only what changed. Resources come
 * compiled (by the resource types, or by the worker's SnapshotCompiler), and an unchanged
 * one is the very same object as before, or at least equal by content (a Struct's key
 * order or a field written at its default is no change):
 * clusters first (hosts updated in place), then route tables (swapped by reference, so no
 * connection notices), then listeners (an unchanged listener is left alone; a changed one
 * keeps its socket and drains the connections of the old config; a removed one drains).
 * Snapshots are applied one at a time, in order.
 */
import { sameContent } from '../../xds-client/resource-equality.js';
import type { CompiledCluster } from '../config/compile.js';
import { logger } from '../logger.js';
import { RouteTable } from '../route/route-table.js';
import type { MeltemiServer } from '../server.js';
import type { CompiledSnapshot, DynamicSnapshot } from './dynamic-snapshot.js';
import { listenerType } from './resource-types/listener-type.js';
import type { ListenerResource } from './resource-types/listener-type.js';
import { routeType } from './resource-types/route-type.js';
import type { RouteResource } from './resource-types/route-type.js';
import { SnapshotCompiler } from './snapshot-compiler.js';

/** How long a new listener waits for its first MetaRDS table before it starts anyway (Envoy's initial_fetch_timeout). */
export const WARMING_TIMEOUT_MS = 15_000;

export class SnapshotApplier {
  readonly #server: MeltemiServer;
  readonly #staticListeners: ReadonlySet<string>;
  readonly #staticClusters: ReadonlySet<string>;
  /** What is applied, to skip what did not change. */
  readonly #listeners = new Map<string, ListenerResource>();
  readonly #clusters = new Map<string, CompiledCluster>();
  readonly #routes = new Map<string, RouteResource>();
  /** For plain snapshots (a worker's): compiles each resource once. */
  readonly #compiler = new SnapshotCompiler();
  /** Listeners (re)started and clusters (re)built, for tests and stats: an unchanged resource counts nothing. */
  listenerUpdates = 0;
  clusterUpdates = 0;
  #queue: Promise<void> = Promise.resolve();
  /** New listeners waiting for their first route table, since when. */
  readonly #warming = new Map<string, number>();
  readonly #warmingTimeoutMs: number;
  #last: CompiledSnapshot | undefined;
  /** Snapshots applied (for tests and stats). */
  applied = 0;

  constructor(server: MeltemiServer, warmingTimeoutMs = WARMING_TIMEOUT_MS) {
    this.#server = server;
    this.#warmingTimeoutMs = warmingTimeoutMs;
    this.#staticListeners = new Set(server.listenerNames());
    this.#staticClusters = new Set(server.clusterNames());
  }

  /** Queues a plain snapshot (a worker's, from the primary); compiles what changed. */
  apply(snapshot: DynamicSnapshot): Promise<void> {
    return this.applyCompiled(this.#compiler.compile(snapshot));
  }

  /** Queues a compiled snapshot; resolves once it (and those before it) are applied. */
  applyCompiled(snapshot: CompiledSnapshot): Promise<void> {
    this.#queue = this.#queue.then(
      () => this.#apply(snapshot),
      () => this.#apply(snapshot),
    );
    return this.#queue;
  }

  /** Resolves once every snapshot queued so far is applied. */
  settled(): Promise<void> {
    return this.#queue.then(
      () => undefined,
      () => undefined,
    );
  }

  async #apply(snap: CompiledSnapshot): Promise<void> {
    const server = this.#server;
    this.#last = snap;
    // Clusters: add and update before listeners and routes start pointing at them.
    const clusterNames = new Set<string>();
    for (const c of snap.clusters) {
      if (this.#staticClusters.has(c.name)) continue;
      clusterNames.add(c.name);
      const prev = this.#clusters.get(c.name);
      if (prev !== undefined && (prev === c || sameContent(prev, c))) continue;
      server.upsertCluster(c);
      this.clusterUpdates++;
      this.#clusters.set(c.name, c);
    }
    // Route tables, compiled already; a table is shared by every listener naming it.
    const routeNames = new Set<string>();
    for (const r of snap.routes) {
      routeNames.add(r.name);
      const prev = this.#routes.get(r.name);
      if (prev !== undefined && (prev === r || routeType.equal(prev, r))) continue;
      this.#routes.set(r.name, r);
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
      // The same config (in any encoding): the running listener stays as it is.
      if (prev !== undefined && (prev === l || listenerType.equal(prev, l))) continue;
      const rdsTable = l.rds !== undefined ? this.#routes.get(l.rds.routeConfigName)?.table : undefined;
      if (l.rds !== undefined && rdsTable === undefined && prev === undefined && this.#stillWarming(l.name)) continue;
      this.#warming.delete(l.name);
      const table = l.rds !== undefined ? (rdsTable ?? RouteTable.EMPTY) : l.compiled.routeTable;
      try {
        await server.upsertListener(l.compiled, table);
        this.listenerUpdates++;
        this.#listeners.set(l.name, l);
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
        if (this.#warming.has(name) && this.#last !== undefined) void this.applyCompiled(this.#last);
      }, this.#warmingTimeoutMs).unref();
      return true;
    }
    // A timer may fire a few milliseconds early.
    return Date.now() - since < this.#warmingTimeoutMs - 10;
  }
}

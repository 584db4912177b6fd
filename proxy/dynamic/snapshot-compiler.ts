/**
 * A worker's side of the primary's snapshots: plain data in, compiled resources out. A
 * resource whose content did not change since the last snapshot keeps its compiled form
 * (the very same object), so each resource is compiled once per process and the applier
 * sees "unchanged" by identity.
 */
import { sameContent } from '../../xds-client/resource-equality.js';
import { logger } from '../logger.js';
import { RouteTable } from '../route/route-table.js';
import type { CompiledSnapshot, DynamicSnapshot } from './dynamic-snapshot.js';
import { compileListenerResource } from './resource-types/listener-type.js';
import type { ListenerResource } from './resource-types/listener-type.js';
import type { RouteResource } from './resource-types/route-type.js';

export class SnapshotCompiler {
  #listeners = new Map<string, ListenerResource>();
  #routes = new Map<string, RouteResource>();

  compile(snap: DynamicSnapshot): CompiledSnapshot {
    const listeners = new Map<string, ListenerResource>();
    for (const l of snap.listeners) {
      const prev = this.#listeners.get(l.name);
      if (prev !== undefined && sameContent(prev.listener, l.listener)) {
        listeners.set(l.name, prev);
        continue;
      }
      const errors: string[] = [];
      const compiled = compileListenerResource(l.listener, errors);
      if (compiled !== undefined) listeners.set(l.name, compiled);
      else {
        // The primary validated it already; this only happens on a worker with other codecs.
        logger.error({ listener: l.name, errors }, 'cannot apply listener');
        if (prev !== undefined) listeners.set(l.name, prev);
      }
    }
    const routes = new Map<string, RouteResource>();
    for (const r of snap.routes) {
      const prev = this.#routes.get(r.name);
      if (prev !== undefined && sameContent(prev.config, r.config)) {
        routes.set(r.name, prev);
        continue;
      }
      try {
        routes.set(r.name, { name: r.name, config: r.config, table: new RouteTable(r.config) });
      } catch (err) {
        logger.error({ route: r.name, err: (err as Error).message }, 'cannot apply route table');
        if (prev !== undefined) routes.set(r.name, prev);
      }
    }
    this.#listeners = listeners;
    this.#routes = routes;
    return { listeners: [...listeners.values()], clusters: snap.clusters, routes: [...routes.values()] };
  }
}

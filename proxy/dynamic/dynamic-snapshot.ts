/**
 * The dynamic part of the config, in two forms. A CompiledSnapshot is what the xDS client
 * accepted, compiled once by the resource types (proxy/dynamic/resource-types/): the
 * applier of the same process uses it as it is. A DynamicSnapshot is the same as plain data
 * in the shapes of the bootstrap, for the primary to send to workers over IPC (compiled
 * objects hold functions); each worker compiles it once (snapshot-compiler.ts).
 */
import type { ListenerConfig, RouteConfigurationConfig } from '../config/bootstrap-schema.js';
import type { CompiledCluster } from '../config/compile.js';
import type { ListenerResource } from './resource-types/listener-type.js';
import type { RouteResource } from './resource-types/route-type.js';

export interface SnapshotListener {
  readonly name: string;
  readonly listener: ListenerConfig;
}

export interface SnapshotRoute {
  readonly name: string;
  readonly config: RouteConfigurationConfig;
}

export interface DynamicSnapshot {
  /** LDS listeners (static ones are not in it and are never removed). */
  readonly listeners: readonly SnapshotListener[];
  /** CDS clusters, with EDS hosts filled in (static ones are not in it). */
  readonly clusters: readonly CompiledCluster[];
  /** MetaRDS route tables by route config name. */
  readonly routes: readonly SnapshotRoute[];
}

export interface CompiledSnapshot {
  readonly listeners: readonly ListenerResource[];
  readonly clusters: readonly CompiledCluster[];
  readonly routes: readonly RouteResource[];
}

/** The plain form of a compiled snapshot. */
export function plainSnapshot(s: CompiledSnapshot): DynamicSnapshot {
  return {
    listeners: s.listeners.map((l) => ({ name: l.name, listener: l.listener })),
    clusters: s.clusters,
    routes: s.routes.map((r) => ({ name: r.name, config: r.config })),
  };
}

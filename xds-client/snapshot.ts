/**
 * The dynamic part of the config as plain data: what the xDS client accepted, in the shapes
 * of the bootstrap. Plain so the primary process can send it to workers over IPC; each
 * receiver compiles it (compiled objects hold functions).
 */
import type { CompiledCluster } from '../proxy/config/compile.js';
import type { ListenerConfig, RouteConfigurationConfig } from '../proxy/config/bootstrap-schema.js';

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

/**
 * What /config_dump reads from the running proxy: plain records, so the builders know
 * nothing of the xDS client, the listeners or the worker processes. `source-from-config.ts`
 * implements it from a compiled bootstrap and the xDS client's resource history.
 *
 * A `resource` is either proto JSON (as a bootstrap writes it) or protobufjs's object form
 * (as the xDS client decodes it); `typeName` says what message it is.
 */

/** A resource from the bootstrap (or inline in one): Envoy's "static" entries. */
export interface StaticRecord {
  readonly name: string;
  readonly typeName: string;
  readonly resource: unknown;
  readonly lastUpdated: Date;
}

/** A resource as last accepted from xDS. */
export interface ActiveRecord {
  readonly name: string;
  readonly typeName: string;
  readonly resource: unknown;
  /** The version of the update that delivered it. */
  readonly version: string;
  readonly lastUpdated: Date;
}

/** The last rejected version of a resource: Envoy's `error_state`. */
export interface RejectedRecord {
  readonly name: string;
  readonly typeName: string;
  /** What was refused, as received. */
  readonly resource: unknown;
  readonly version: string;
  readonly at: Date;
  readonly details: string;
}

/** One xDS resource type: what is active, what was refused, and the type's version. */
export interface DynamicRecords {
  /** Version of the last accepted update of the type. */
  readonly version: string;
  readonly active: readonly ActiveRecord[];
  readonly rejected: readonly RejectedRecord[];
}

export const NO_DYNAMIC: DynamicRecords = { version: '', active: [], rejected: [] };

export interface ConfigDumpSource {
  /** The bootstrap as loaded (the file with --config-yaml merged over it), and when. */
  bootstrap(): { readonly document: unknown; readonly loadedAt: Date };
  staticListeners(): readonly StaticRecord[];
  staticClusters(): readonly StaticRecord[];
  /** Meta route tables written inline in listeners (MetaProtocolProxy.route_config). */
  staticRoutes(): readonly StaticRecord[];
  dynamicListeners(): DynamicRecords;
  dynamicClusters(): DynamicRecords;
  /** EDS cluster load assignments. */
  dynamicEndpoints(): DynamicRecords;
  /** MetaRDS route tables, in Aeraki's meta RouteConfiguration form. */
  dynamicRoutes(): DynamicRecords;
}

/** A source with nothing in it (an empty bootstrap): for an admin server with no proxy behind it. */
export function emptyConfigDumpSource(): ConfigDumpSource {
  const at = new Date();
  return {
    bootstrap: () => ({ document: {}, loadedAt: at }),
    staticListeners: () => [],
    staticClusters: () => [],
    staticRoutes: () => [],
    dynamicListeners: () => NO_DYNAMIC,
    dynamicClusters: () => NO_DYNAMIC,
    dynamicEndpoints: () => NO_DYNAMIC,
    dynamicRoutes: () => NO_DYNAMIC,
  };
}

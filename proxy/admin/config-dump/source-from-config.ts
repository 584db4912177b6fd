/**
 * The ConfigDumpSource of a running proxy: the bootstrap it loaded, and what its xDS client
 * accepted and rejected (xds-client/resource-history.ts). Used by the single process and
 * by the primary of several workers, which holds the xDS streams.
 */
import type { CompiledConfig } from '../../config/compile.js';
import type { XdsClient } from '../../../xds-client/xds-client.js';
import type { AcceptedRecord, RejectedRecord as HistoryRejection, TypeHistory } from '../../../xds-client/resource-history.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../../xds-client/type-urls.js';
import type { ActiveRecord, ConfigDumpSource, DynamicRecords, RejectedRecord, StaticRecord } from './source.js';
import { NO_DYNAMIC } from './source.js';
import { CLUSTER, CLUSTER_LOAD_ASSIGNMENT, ENVOY_ROUTE_CONFIGURATION, LISTENER, META_ROUTE_CONFIGURATION } from './type-names.js';

type Json = Record<string, unknown>;

export interface ConfigDumpInputs {
  readonly config: CompiledConfig;
  /** When the bootstrap was loaded (the static resources' `last_updated`). */
  readonly loadedAt: Date;
  /** The xDS client, when the bootstrap asks for one (it may start after the admin). */
  readonly xds: () => XdsClient | undefined;
}

/** The bootstrap's static resources of one kind, from the document as written. */
function staticResources(inputs: ConfigDumpInputs, kind: 'listeners' | 'clusters', typeName: string): StaticRecord[] {
  const doc = (inputs.config.document ?? inputs.config.bootstrap) as { static_resources?: Json; staticResources?: Json } | null;
  const sr = doc?.static_resources ?? doc?.staticResources;
  const list = sr?.[kind];
  if (!Array.isArray(list)) return [];
  return list.map((resource: unknown) => {
    const name = (resource as { name?: unknown } | null)?.name;
    return { name: typeof name === 'string' ? name : '', typeName, resource, lastUpdated: inputs.loadedAt };
  });
}

function typeNameOf(resource: Json, fallback: string): string {
  const url = resource['@type'];
  return typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : fallback;
}

function rejected(r: HistoryRejection, fallback: string): RejectedRecord {
  return { name: r.name, typeName: typeNameOf(r.resource, fallback), resource: r.resource, version: r.version, at: r.at, details: r.details };
}

function dynamic(h: TypeHistory | undefined, typeName: string, content: (a: AcceptedRecord) => unknown = (a) => a.resource, contentType = typeName): DynamicRecords {
  if (h === undefined) return NO_DYNAMIC;
  const active: ActiveRecord[] = [...h.accepted.values()].map((a) => ({ name: a.name, typeName: contentType, resource: content(a), version: a.version, lastUpdated: a.at }));
  return { version: h.version, active, rejected: [...h.rejected.values()].map((r) => rejected(r, typeName)) };
}

export function configDumpSource(inputs: ConfigDumpInputs): ConfigDumpSource {
  return {
    bootstrap: () => ({ document: inputs.config.document ?? inputs.config.bootstrap, loadedAt: inputs.loadedAt }),
    staticListeners: () => staticResources(inputs, 'listeners', LISTENER),
    staticClusters: () => staticResources(inputs, 'clusters', CLUSTER),
    staticRoutes: () =>
      inputs.config.listeners.flatMap((l) => {
        const rc = l.proxyConfig.route_config;
        return l.rds !== undefined || rc === undefined ? [] : [{ name: rc.name ?? '', typeName: META_ROUTE_CONFIGURATION, resource: rc, lastUpdated: inputs.loadedAt }];
      }),
    dynamicListeners: () => dynamic(inputs.xds()?.history.view(LISTENER_TYPE), LISTENER),
    dynamicClusters: () => dynamic(inputs.xds()?.history.view(CLUSTER_TYPE), CLUSTER),
    dynamicEndpoints: () => dynamic(inputs.xds()?.history.view(ENDPOINT_TYPE), CLUSTER_LOAD_ASSIGNMENT),
    dynamicRoutes: () => {
      const xds = inputs.xds();
      if (xds === undefined) return NO_DYNAMIC;
      // Shown as the meta route table the MetaRDS resource became (what is routed with).
      const tables = new Map(xds.snapshot().routes.map((r) => [r.name, r.config]));
      return dynamic(xds.history.view(ROUTE_TYPE), ENVOY_ROUTE_CONFIGURATION, (a) => tables.get(a.name) ?? a.resource, META_ROUTE_CONFIGURATION);
    },
  };
}

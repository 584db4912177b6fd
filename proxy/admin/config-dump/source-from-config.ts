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

const MPP_TYPE = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';
const TYPED_STRUCTS = new Set(['type.googleapis.com/udpa.type.v1.TypedStruct', 'type.googleapis.com/xds.type.v3.TypedStruct']);

/** The inline meta route tables of a listener (MetaProtocolProxy.route_config, or inside a TypedStruct). */
function inlineRouteConfigs(listener: unknown): Json[] {
  const out: Json[] = [];
  const chains = (listener as { filter_chains?: unknown } | null)?.filter_chains;
  for (const chain of Array.isArray(chains) ? chains : []) {
    const filters = (chain as { filters?: unknown } | null)?.filters;
    for (const f of Array.isArray(filters) ? filters : []) {
      const tc = (f as { typed_config?: Json } | null)?.typed_config;
      const type = tc?.['@type'];
      const proxy = type === MPP_TYPE ? tc : typeof type === 'string' && TYPED_STRUCTS.has(type) && tc?.['type_url'] === MPP_TYPE ? (tc['value'] as Json | undefined) : undefined;
      const rc = proxy?.['route_config'] ?? proxy?.['routeConfig'];
      if (typeof rc === 'object' && rc !== null) out.push(rc as Json);
    }
  }
  return out;
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
    // As meta-protocol-proxy: every inline table is static, in a bootstrap listener or an LDS one.
    staticRoutes: () => {
      const fromBootstrap = inputs.config.listeners.flatMap((l) => {
        const rc = l.proxyConfig.route_config;
        return l.rds !== undefined || rc === undefined ? [] : [{ name: rc.name ?? '', typeName: META_ROUTE_CONFIGURATION, resource: rc, lastUpdated: inputs.loadedAt }];
      });
      const lds = inputs.xds()?.history.view(LISTENER_TYPE).accepted.values() ?? [];
      const fromLds = [...lds].flatMap((a) =>
        inlineRouteConfigs(a.resource).map((rc) => ({ name: typeof rc['name'] === 'string' ? rc['name'] : '', typeName: META_ROUTE_CONFIGURATION, resource: rc, lastUpdated: a.at })),
      );
      return [...fromBootstrap, ...fromLds];
    },
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

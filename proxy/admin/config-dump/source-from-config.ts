/**
 * The ConfigDumpSource of a running proxy: the bootstrap it loaded, and what its xDS client
 * accepted and rejected (MeltemiXds.dumpRecords, from the client's resource caches). Used by
 * the single process and by the primary of several workers, which holds the xDS streams.
 */
import type { CompiledConfig } from '../../config/compile.js';
import type { MeltemiXds, XdsDumpRecords } from '../../dynamic/meltemi-xds.js';
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
  readonly xds: () => MeltemiXds | undefined;
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

function dynamic(records: XdsDumpRecords | undefined, typeName: string, content: (name: string, raw: unknown) => unknown = (_n, raw) => raw, contentType = typeName): DynamicRecords {
  if (records === undefined) return NO_DYNAMIC;
  const active: ActiveRecord[] = records.accepted.map((a) => ({ name: a.name, typeName: contentType, resource: content(a.name, a.raw), version: a.version, lastUpdated: new Date(a.lastUpdated) }));
  const rejected: RejectedRecord[] = records.rejected.map((r) => ({
    name: r.name,
    typeName: typeNameOf(r.failedConfiguration as Json, typeName),
    resource: r.failedConfiguration,
    version: r.version,
    at: new Date(r.lastUpdateAttempt),
    details: r.details,
  }));
  return { version: records.version, active, rejected };
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
      const lds = inputs.xds()?.dumpRecords(LISTENER_TYPE).accepted ?? [];
      const fromLds = lds.flatMap((a) =>
        inlineRouteConfigs(a.raw).map((rc) => ({ name: typeof rc['name'] === 'string' ? rc['name'] : '', typeName: META_ROUTE_CONFIGURATION, resource: rc, lastUpdated: new Date(a.lastUpdated) })),
      );
      return [...fromBootstrap, ...fromLds];
    },
    dynamicListeners: () => dynamic(inputs.xds()?.dumpRecords(LISTENER_TYPE), LISTENER),
    dynamicClusters: () => dynamic(inputs.xds()?.dumpRecords(CLUSTER_TYPE), CLUSTER),
    dynamicEndpoints: () => dynamic(inputs.xds()?.dumpRecords(ENDPOINT_TYPE), CLUSTER_LOAD_ASSIGNMENT),
    dynamicRoutes: () => {
      const xds = inputs.xds();
      if (xds === undefined) return NO_DYNAMIC;
      // Shown as the meta route table the MetaRDS resource became (what is routed with).
      const tables = new Map(xds.snapshot().routes.map((r) => [r.name, r.config]));
      return dynamic(xds.dumpRecords(ROUTE_TYPE), ENVOY_ROUTE_CONFIGURATION, (name, raw) => tables.get(name) ?? raw, META_ROUTE_CONFIGURATION);
    },
  };
}

import { packAny, timestamp } from './proto-json.js';
import { compact, dynamicEntries } from './section.js';
import type { DumpSection, NameFilter } from './section.js';
import type { ConfigDumpSource } from './source.js';
import { META_ROUTES_DUMP, ROUTES_DUMP } from './type-names.js';

/**
 * meta-protocol-proxy's RoutesConfigDump (tracker key `meta_protocol_routes`): the meta route
 * tables written inline in listeners as static, MetaRDS tables as dynamic with the version
 * they came with. Each table is shown as Aeraki's meta RouteConfiguration, which is what
 * the MetaRDS resource (an Envoy RouteConfiguration on the wire) is turned into; a refused
 * MetaRDS update is shown in `error_state` as it came.
 */
export function metaRoutesSection(src: ConfigDumpSource, keep: NameFilter): DumpSection {
  const statics = src
    .staticRoutes()
    .filter((r) => keep(r.name))
    .map((r) => ({ route_config: packAny(r.typeName, r.resource), last_updated: timestamp(r.lastUpdated) }));
  return {
    key: 'meta_protocol_routes',
    typeName: META_ROUTES_DUMP,
    body: compact({ static_route_configs: statics, dynamic_route_configs: dynamicEntries(src.dynamicRoutes(), 'route_config', keep) }),
  };
}

/**
 * Envoy's own RoutesConfigDump, for HTTP route tables. Meltemi routes no HTTP through
 * RDS, so it is empty; it is there because Envoy always has it and tools look for it.
 */
export function envoyRoutesSection(): DumpSection {
  return { key: 'routes', typeName: ROUTES_DUMP, body: {} };
}

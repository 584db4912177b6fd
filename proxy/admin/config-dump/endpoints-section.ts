import { packAny, timestamp } from './proto-json.js';
import { compact, dynamicEntries } from './section.js';
import type { DumpSection, NameFilter } from './section.js';
import type { ConfigDumpSource } from './source.js';
import { CLUSTER_LOAD_ASSIGNMENT, ENDPOINTS_DUMP } from './type-names.js';

type Json = Record<string, unknown>;

/** A cluster's inline `load_assignment`, named after the cluster as Envoy names it. */
function inlineAssignment(clusterName: string, cluster: unknown): Json | undefined {
  const la = (cluster as { load_assignment?: unknown; loadAssignment?: unknown } | null)?.load_assignment ?? (cluster as { loadAssignment?: unknown } | null)?.loadAssignment;
  if (typeof la !== 'object' || la === null) return undefined;
  return packAny(CLUSTER_LOAD_ASSIGNMENT, { ...(la as Json), cluster_name: clusterName });
}

/**
 * Envoy's EndpointsConfigDump (only with `?include_eds`): the endpoints of bootstrap
 * clusters as static; those of CDS clusters (inline, or from EDS with the EDS version and
 * time) as dynamic. Endpoint configs are named by cluster (or EDS service) name.
 */
export function endpointsSection(src: ConfigDumpSource, keep: NameFilter): DumpSection {
  const statics: Json[] = [];
  for (const c of src.staticClusters()) {
    const la = keep(c.name) ? inlineAssignment(c.name, c.resource) : undefined;
    if (la !== undefined) statics.push({ endpoint_config: la, last_updated: timestamp(c.lastUpdated) });
  }
  const dynamic = dynamicEntries(src.dynamicEndpoints(), 'endpoint_config', keep);
  for (const c of src.dynamicClusters().active) {
    const la = keep(c.name) ? inlineAssignment(c.name, c.resource) : undefined;
    if (la !== undefined) dynamic.push(compact({ version_info: c.version, endpoint_config: la, last_updated: timestamp(c.lastUpdated) }));
  }
  return { key: 'endpoint', typeName: ENDPOINTS_DUMP, body: compact({ static_endpoint_configs: statics, dynamic_endpoint_configs: dynamic }) };
}

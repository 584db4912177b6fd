import { packAny, timestamp } from './proto-json.js';
import { compact, dynamicEntries } from './section.js';
import type { DumpSection, NameFilter } from './section.js';
import type { ConfigDumpSource } from './source.js';
import { CLUSTERS_DUMP } from './type-names.js';

/**
 * Envoy's ClustersConfigDump: bootstrap clusters as static, CDS clusters as dynamic active
 * ones. A refused cluster update is the entry's `error_state` (alone when no version of the
 * cluster was ever accepted). Meltemi has no warming clusters: a cluster serves as soon as
 * it is accepted.
 */
export function clustersSection(src: ConfigDumpSource, keep: NameFilter): DumpSection {
  const dyn = src.dynamicClusters();
  const statics = src
    .staticClusters()
    .filter((c) => keep(c.name))
    .map((c) => ({ cluster: packAny(c.typeName, c.resource), last_updated: timestamp(c.lastUpdated) }));
  return {
    key: 'clusters',
    typeName: CLUSTERS_DUMP,
    body: compact({ version_info: dyn.version, static_clusters: statics, dynamic_active_clusters: dynamicEntries(dyn, 'cluster', keep) }),
  };
}

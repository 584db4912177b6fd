import { FilterStatus } from '../api/index.js';
import type { Filter, FilterContext, FilterFactory } from '../api/index.js';
import { parseIstioStatsConfig } from './config.js';
import { IstioStatsFilter } from './istio-stats-filter.js';

export { parseIstioStatsConfig } from './config.js';
export type { IstioStatsConfig } from './config.js';
export { IstioStatsFilter } from './istio-stats-filter.js';
export { decodePeerMetadata, encodePeerMetadata } from './peer-metadata.js';
export type { StructValue } from './peer-metadata.js';
export { istioLabels, serviceFromCluster, workloadOf } from './labels.js';
export type { ConnectionSecurity, Reporter, Workload } from './labels.js';

export const ISTIO_STATS_FILTER = 'aeraki.meta_protocol.filters.istio_stats';

/** With stats off (reject_all) the filter only passes requests on, and the chain has no onComplete to call. */
const passThrough: Filter = { onRequest: () => FilterStatus.Continue };

/**
 * `aeraki.meta_protocol.filters.istio_stats`: Istio's request metrics
 * (`istio_requests_total`, `istio_request_duration_milliseconds`, `istio_request_bytes`,
 * `istio_response_bytes`), recorded in onComplete when each exchange ends, local replies
 * included. An inbound listener reports as destination, any other as source.
 */
export const istioStatsFilterFactory: FilterFactory = {
  name: ISTIO_STATS_FILTER,
  create(config: unknown, context: FilterContext): () => Filter {
    const cfg = parseIstioStatsConfig(config);
    // The node and whether stats are on are known once the listener serves: decided at the first make.
    let filter: Filter | undefined;
    return () =>
      (filter ??= context.rootStats.enabled
        ? new IstioStatsFilter(context.direction === 'outbound' ? 'source' : 'destination', context.node.metadata, cfg, context.rootStats)
        : passThrough);
  },
};

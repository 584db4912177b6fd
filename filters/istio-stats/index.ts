import { FilterStatus } from '../api/index.js';
import type { Filter, FilterFactory } from '../api/index.js';

export { decodePeerMetadata, encodePeerMetadata } from './peer-metadata.js';
export type { StructValue } from './peer-metadata.js';
export { istioLabels, serviceFromCluster, workloadOf } from './labels.js';
export type { Reporter, Workload } from './labels.js';

export const ISTIO_STATS_FILTER = 'aeraki.meta_protocol.filters.istio_stats';

/** The IstioStats config: on an inbound listener, the service the proxy stands for. */
export interface IstioStatsConfig {
  readonly destinationService: string;
}

/** Validates the filter's config (`destination_service`, optional). */
export function parseIstioStatsConfig(config: unknown): IstioStatsConfig {
  if (config === undefined || config === null) return { destinationService: '' };
  if (typeof config !== 'object' || Array.isArray(config)) throw new Error('expected an object');
  const c = config as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (k !== '@type' && k !== 'destination_service' && k !== 'destinationService') throw new Error(`unknown field ${k}`);
  }
  const svc = c['destination_service'] ?? c['destinationService'] ?? '';
  if (typeof svc !== 'string') throw new Error('destination_service: expected a string');
  return { destinationService: svc };
}

/** It reports at the end of every exchange (the proxy's observer does the recording), so the filter itself only passes requests on. */
const passThrough: Filter = { onRequest: () => FilterStatus.Continue };

/**
 * `aeraki.meta_protocol.filters.istio_stats`: Istio's request metrics
 * (`istio_requests_total`, `istio_request_duration_milliseconds`, `istio_request_bytes`,
 * `istio_response_bytes`). The listener compiler reads its config and the proxy records
 * the metrics when each exchange ends, local replies included.
 */
export const istioStatsFilterFactory: FilterFactory = {
  name: ISTIO_STATS_FILTER,
  create(config: unknown): () => Filter {
    parseIstioStatsConfig(config);
    return () => passThrough;
  },
};

import { FilterStatus } from '../api/index.js';
import type { Filter, FilterContext, FilterExchange, FilterFactory } from '../api/index.js';
import { nodeMetadataHeader } from './node-struct.js';
import type { JsonValue } from './node-struct.js';

export const METADATA_EXCHANGE_FILTER = 'aeraki.meta_protocol.filters.metadata_exchange';
export const PEER_METADATA_KEY = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID_KEY = 'x-envoy-peer-metadata-id';

/** The node metadata fields Istio's FlatNode keeps (the rest is not exchanged). */
const FLAT_NODE_FIELDS = [
  'NAME',
  'NAMESPACE',
  'OWNER',
  'WORKLOAD_NAME',
  'ISTIO_VERSION',
  'MESH_ID',
  'CLUSTER_ID',
  'LABELS',
  'PLATFORM_METADATA',
  'APP_CONTAINERS',
  'INSTANCE_IPS',
  'SERVICE_ACCOUNT',
];

/** The two values this proxy sends its peers: its metadata (base64 Struct) and its node id. */
export interface PeerMetadataValues {
  readonly metadata: string;
  readonly id: string;
}

/** Computes the exchanged values once, from the bootstrap's node (spec/metaprotocol.md §7.4). */
export function peerMetadataValues(nodeId: string | undefined, nodeMetadata: Readonly<Record<string, unknown>> | undefined): PeerMetadataValues {
  const flat: { [k: string]: JsonValue } = {};
  for (const k of FLAT_NODE_FIELDS) {
    const v = nodeMetadata?.[k];
    if (v !== undefined) flat[k] = v as JsonValue;
  }
  return { metadata: nodeMetadataHeader(flat), id: nodeId ?? '' };
}

/**
 * OUTBOUND: the request carries this proxy's identity, so the server's proxy learns who
 * calls; otherwise (INBOUND) the response does, so the client's proxy learns who answered.
 */
function exchangeFilter(values: PeerMetadataValues, onRequest: boolean): Filter {
  const { metadata, id } = values;
  return {
    onRequest: onRequest
      ? (ex: FilterExchange) => (ex.setRequestHeader(PEER_METADATA_KEY, metadata), ex.setRequestHeader(PEER_METADATA_ID_KEY, id), FilterStatus.Continue)
      : (ex: FilterExchange) => (ex.setResponseHeader(PEER_METADATA_KEY, metadata), ex.setResponseHeader(PEER_METADATA_ID_KEY, id), FilterStatus.Continue),
  };
}

/**
 * `aeraki.meta_protocol.filters.metadata_exchange`: tells the peer proxy who this workload is,
 * in `x-envoy-peer-metadata` and `x-envoy-peer-metadata-id`, for its istio_stats labels.
 * Only codecs that carry mutations (Dubbo attachments, tRPC trans_info, THeader) pass them on.
 */
export const metadataExchangeFilterFactory: FilterFactory = {
  name: METADATA_EXCHANGE_FILTER,
  create(config: unknown, context: FilterContext): () => Filter {
    if (config !== undefined && config !== null) {
      const extra = Object.keys(config as object).filter((k) => k !== '@type');
      if (extra.length > 0) throw new Error(`metadata_exchange takes no settings (got ${extra.join(', ')})`);
    }
    // The node is known once the listener serves: the values are computed at the first make.
    let filter: Filter | undefined;
    return () => (filter ??= exchangeFilter(peerMetadataValues(context.node.id, context.node.metadata), context.direction === 'outbound'));
  },
};

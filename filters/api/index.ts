/** The public filter API (`meltemi/filter`). */
export { FILTER_API_VERSION, FilterStatus } from './filter.js';
export type { ClusterHost, Filter, FilterContext, FilterExchange, FilterFactory, FilterResult, RouteView } from './filter.js';
export type { DownstreamPeer } from './downstream-peer.js';
export { NO_HOST, OVERFLOW } from './upstream.js';
export type {
  CopySink,
  Deadline,
  HostPick,
  MirrorPolicy,
  PickContext,
  PickResult,
  RequestSnapshot,
  RetryOn,
  RetryPolicy,
  RouteCounters,
  RouterRoute,
  SendResult,
  SubsetSelector,
  UpstreamCluster,
  UpstreamClusterStats,
  UpstreamClusters,
  UpstreamHost,
  UpstreamHostStats,
  UpstreamLink,
} from './upstream.js';

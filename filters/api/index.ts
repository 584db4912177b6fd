/** The public filter API (`meltemi/filter`). */
export { FILTER_API_VERSION, FILTER_API_VERSIONS, FilterStatus, MIN_FILTER_API_VERSION } from './filter.js';
export type {
  ClusterHost,
  Filter,
  FilterContext,
  FilterExchange,
  FilterFactory,
  FilterResult,
  MessageView,
  NodeInfo,
  RouteView,
  TrafficDirection,
} from './filter.js';
export type { ExchangeCompletion, ExchangeOutcome } from './completion.js';
export type { Counter, Gauge, Histogram, StatTags, StatsScope } from './stats.js';
export type { ConnectionInfo, PeerIdentity } from './connection.js';
export type { SharedTokenBucket, TokenBucketSpec } from './shared-quota.js';
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

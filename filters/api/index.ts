/** The public filter API (`meltemi/filter`). */
export { FILTER_API_VERSION, FilterStatus } from './filter.js';
export type { ClusterHost, Filter, FilterContext, FilterExchange, FilterFactory, FilterResult, RouteView } from './filter.js';
export type { DownstreamPeer } from './downstream-peer.js';

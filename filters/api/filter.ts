import type { ApiVersionRange, ErrorType, Message, Metadata, RequestId } from '../../codecs/api/index.js';
import type { ExchangeCompletion } from './completion.js';
import type { StatsScope } from './stats.js';
import type { ConnectionInfo } from './connection.js';
import type { SharedTokenBucket, TokenBucketSpec } from './shared-quota.js';

/** What a filter tells the chain after it ran. */
export enum FilterStatus {
  /** Go on with the next filter. */
  Continue = 0,
  /** Stop the chain: the filter answered (local reply) or handed the request on (router). */
  Stop = 1,
}

/**
 * A filter returns a status, or a promise of one when it really has to wait (a global rate
 * limit call, external auth). The chain pays for promises only then.
 */
export type FilterResult = FilterStatus | Promise<FilterStatus>;

/** The route a request matched, as filters see it. */
export interface RouteView {
  readonly name: string;
  /** Picks the target cluster; `random` in [0, 1) selects among weighted clusters. */
  pickCluster(random: number): string;
  readonly requestMutation: ReadonlyMap<string, string> | null;
  readonly responseMutation: ReadonlyMap<string, string> | null;
  readonly hashKeys: readonly string[];
  readonly timeoutMs: number | undefined;
}

/**
 * A request or response as filters see it: what kind of message it is, its call name and
 * metadata, never its bytes. (The frame stays with the proxy; its id is rewritten in place
 * on the way upstream, so the client's id is `FilterExchange.downstreamRequestId`.)
 */
export type MessageView = Readonly<Pick<Message, 'type' | 'streamId' | 'status' | 'operationName' | 'metadata' | 'headerSize' | 'bodySize'>>;

/** One request/response exchange, as filters see it. Filters never touch wire bytes. */
export interface FilterExchange {
  readonly request: MessageView;
  /** The request's metadata (the same as `request.metadata`). */
  readonly metadata: Metadata;
  /** The client's own request id. */
  readonly downstreamRequestId: RequestId;
  /** Set once the upstream answered (in onResponse). */
  readonly response: MessageView | undefined;
  readonly downstreamRemoteAddress: string;
  /**
   * The downstream connection (addresses, TLS peer identity). Meltemi's exchanges have it;
   * a test double may leave it out.
   */
  readonly connection?: ConnectionInfo;
  /** Matches the listener's current route table (once; later calls return the same). */
  route(): RouteView | undefined;
  /** Adds or overwrites a header/attachment key on the forwarded request. */
  setRequestHeader(key: string, value: string): void;
  /** Adds or overwrites a header/attachment key on the response sent to the client. */
  setResponseHeader(key: string, value: string): void;
  /** Answers the client with the protocol's error reply; the exchange ends. */
  sendLocalReply(error: ErrorType, text: string): void;
  /** Sends the request to `cluster` (the router's job). Failures become local replies. */
  forward(cluster: string): void;
  /**
   * Picks a host of `cluster` with its load balancer (a side service such as a rate-limit
   * service); undefined when the cluster is unknown or has no healthy host. Meltemi's
   * exchanges have it; a test double may leave it out.
   */
  clusterHost?(cluster: string): ClusterHost | undefined;
}

/** A host of a cluster, as a filter may call it. */
export interface ClusterHost {
  readonly address: string;
  readonly port: number;
}

/** Envoy's traffic_direction of the listener; `unspecified` when the config gives none. */
export type TrafficDirection = 'inbound' | 'outbound' | 'unspecified';

/** The proxy's own identity: the bootstrap's `node.id` and `node.metadata` (Istio's workload attributes). */
export interface NodeInfo {
  readonly id: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** What a filter factory knows of the listener it builds for. */
export interface FilterContext {
  /** The listener's stat prefix, `meta_protocol.<protocol>.<stat_prefix>.`: filter stats go under it. */
  readonly statPrefix: string;
  /** Stats under `statPrefix` (a filter usually takes a `scope('<filter>')` of it). */
  readonly stats: StatsScope;
  /** Stats with names of their own, outside the listener's prefix (Istio's `istio_requests_total`). */
  readonly rootStats: StatsScope;
  readonly direction: TrafficDirection;
  /**
   * This proxy's node. The proxy knows it once the listener serves: read it when the filter
   * makes its first instance (the function `create` returns), not in `create` itself.
   */
  readonly node: NodeInfo;
  /**
   * A token bucket shared by every worker process of this sidecar, named by `id` (unique
   * among the listener's buckets, e.g. the filter's stat prefix and the bucket's name; the
   * proxy adds the listener's name; a different spec makes a different bucket).
   * Undefined when this process alone serves traffic: the filter keeps a local bucket.
   */
  sharedTokenBucket?(id: string, spec: TokenBucketSpec): SharedTokenBucket | undefined;
}

export interface Filter {
  onRequest(exchange: FilterExchange): FilterResult;
  /**
   * Runs when the upstream's response arrives, before it is written to the client. Filters
   * run in reverse order here (Envoy's encoder order): the router first, the first filter of
   * the chain last, so the filter nearest the client has the last word on response headers.
   */
  onResponse?(exchange: FilterExchange): void;
  /**
   * Runs exactly once per exchange, after it ended, whatever the end: a response, a local
   * reply (this filter's, another's, the router's), an upstream failure, a timeout, a
   * one-way forward, a client that went away. Every filter of the chain is called, also
   * those the request never reached, in reverse order. It must not throw (a throw is logged
   * and counted as internal_error; the exchange is over) and must not keep `info` after
   * it returns. A chain whose filters define no onComplete pays nothing for it.
   */
  onComplete?(info: ExchangeCompletion): void;
}

/**
 * The version of this SPI. A filter package declares the one it was written for.
 * 2: FilterExchange.request/response are MessageView (no frame bytes), onResponse runs in
 * reverse order, onComplete, and FilterContext carries stats, direction and node.
 */
export const FILTER_API_VERSION = 2;

/** The oldest filter API version this Meltemi still loads (see docs/filters.md). */
export const MIN_FILTER_API_VERSION = 1;

/**
 * Filter API versions this build loads. Version 1 filters keep working: what they could use
 * in version 1 (metadata, the mutation and reply calls, route(), onRequest, onResponse) is
 * unchanged except that onResponse now runs in reverse order; a version 1 filter never had a
 * sanctioned way to the bytes ("filters never touch wire bytes").
 */
export const FILTER_API_VERSIONS: ApiVersionRange = { min: MIN_FILTER_API_VERSION, max: FILTER_API_VERSION };

/** Built once per listener config; creates a filter per exchange (or shares one). */
export interface FilterFactory {
  /** Registry name, e.g. `aeraki.meta_protocol.filters.router`. */
  readonly name: string;
  /**
   * The FILTER_API_VERSION the filter was written for. Required of filter packages loaded
   * by name (`--filter`, `meltemi.filters`); built-in filters may leave it out.
   */
  readonly apiVersion?: number;
  /**
   * Validates `config` (the `config` Any of a `meta_protocol_filters` entry, or undefined)
   * and returns a maker of filters, or throws an Error whose message names the problem.
   * The maker is called when the listener starts serving (once, when it hands out one
   * shared instance) and, for a filter with per-exchange state, once per exchange.
   */
  create(config: unknown, context: FilterContext): () => Filter;
  /** True for the terminal filter (the router). */
  readonly terminal?: boolean;
}

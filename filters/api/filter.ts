import type { ErrorType, Message, Metadata, RequestId } from '../../codecs/api/index.js';
import type { DownstreamPeer } from './downstream-peer.js';

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

/** One request/response exchange, as filters see it. Filters never touch wire bytes. */
export interface FilterExchange {
  readonly request: Message;
  readonly metadata: Metadata;
  /** The client's own request id. */
  readonly downstreamRequestId: RequestId;
  /** Set once the upstream answered (in onResponse). */
  readonly response: Message | undefined;
  readonly downstreamRemoteAddress: string;
  /**
   * The client connection's TLS facts and peer identity (principal = URI SAN). Meltemi's
   * exchanges always have it (`tls: false` on plaintext); a test double may leave it out.
   */
  readonly downstreamPeer?: DownstreamPeer;
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

/** What a filter factory knows of the listener it builds for. */
export interface FilterContext {
  /** The listener's stat prefix, `meta_protocol.<protocol>.<stat_prefix>.`: filter stats go under it. */
  readonly statPrefix: string;
}

export interface Filter {
  onRequest(exchange: FilterExchange): FilterResult;
  /** Runs before the response is written to the client. */
  onResponse?(exchange: FilterExchange): void;
}

/** The version of this SPI. A filter package declares the one it was written for. */
export const FILTER_API_VERSION = 1;

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
   */
  create(config: unknown, context?: FilterContext): () => Filter;
  /** True for the terminal filter (the router). */
  readonly terminal?: boolean;
}

import type { ErrorType, Metadata } from '../../codecs/api/index.js';
import type { RouteView } from './filter.js';

/**
 * The upstream API: how the router reaches clusters. The proxy implements it
 * (proxy/upstream/cluster.ts for clusters and hosts, the exchange for one request's way to
 * a connection); the router's unit tests implement it with fakes. Failures travel as values
 * (a pick result, a send result), never as exceptions.
 */

/** Per-host request counters the router keeps (Envoy's /clusters `rq_*`). */
export interface UpstreamHostStats {
  rq_total: number;
  rq_success: number;
  rq_error: number;
  rq_timeout: number;
  rq_active: number;
}

/** One endpoint of a cluster, as the router sees it. */
export interface UpstreamHost {
  /** `address:port`. */
  readonly id: string;
  readonly stats: UpstreamHostStats;
}

/** The `cluster.<name>.*` counters the router keeps (Envoy's names). */
export interface UpstreamClusterStats {
  upstream_rq_total: number;
  upstream_rq_completed: number;
  upstream_rq_error: number;
  upstream_rq_timeout: number;
  upstream_rq_active: number;
  upstream_rq_oneway: number;
  upstream_rq_tx_bytes: number;
  upstream_rs_rx_bytes: number;
  upstream_rq_pending_overflow: number;
  upstream_rq_retry: number;
  upstream_rq_retry_success: number;
  upstream_rq_retry_overflow: number;
  mirror_rq_total: number;
  mirror_rq_dropped: number;
  mirror_rq_failed: number;
}

/** A route's `metadata_match` (`filter_metadata["envoy.lb"]`), compiled once with a cache key. */
export interface SubsetSelector {
  readonly key: string;
  readonly entries: readonly (readonly [string, string])[];
}

/** What one host choice takes into account. */
export interface PickContext<H extends UpstreamHost = UpstreamHost> {
  /** The request's metadata: a hashing balancer hashes the values of `hashKeys` in it. */
  readonly metadata: Metadata;
  /** The route's hash policy (metadata keys); empty when it has none. */
  readonly hashKeys: readonly string[];
  /** Hosts whose `envoy.lb` labels hold every entry; undefined: any host. */
  readonly subset: SubsetSelector | undefined;
  /** A host that just failed this request: another one is preferred when there is one. */
  readonly avoid: H | undefined;
}

/** A host was chosen. Hosts hand out one such object each, so a pick allocates nothing. */
export interface HostPick<H extends UpstreamHost = UpstreamHost> {
  readonly kind: 'host';
  readonly host: H;
}

/** The result of a host choice, tagged as grpc-js pickers tag theirs. */
export type PickResult<H extends UpstreamHost = UpstreamHost> = HostPick<H> | { readonly kind: 'no-host' } | { readonly kind: 'overflow' };

/** No healthy host (in the subset asked for). */
export const NO_HOST: PickResult<never> = Object.freeze({ kind: 'no-host' });
/** A host was there, but the request would queue past a circuit breaker (or congestion). */
export const OVERFLOW: PickResult<never> = Object.freeze({ kind: 'overflow' });

/** A cluster, as the router reaches it: admission, host choice, outlier reports, stats. */
export interface UpstreamCluster<H extends UpstreamHost = UpstreamHost> {
  readonly name: string;
  readonly stats: UpstreamClusterStats;
  /** Circuit breaker max_requests: false when the cluster has as many requests in flight. */
  admitRequest(): boolean;
  /** Circuit breaker max_retries, or the retry budget when one is set. */
  admitRetry(): boolean;
  /** Retries in flight (what admitRetry counts); the router moves it. */
  retriesActive: number;
  /** One host choice: balancer, hash policy, subset, the host to avoid. */
  pick(ctx: PickContext<H>): PickResult<H>;
  /** Feeds outlier detection: true for an answer, false for an error reply, reset or timeout. */
  reportResult(host: H, ok: boolean): void;
}

/** The clusters a listener can send to, by name. */
export interface UpstreamClusters<C extends UpstreamCluster = UpstreamCluster> {
  get(name: string): C | undefined;
}

/** Undefined once written; otherwise why the codec could not encode the (mutated) request. */
export type SendResult = undefined | { readonly message: string };

/** Something that gets a deadline: `expire` runs once `done` is still false when it passes. */
export interface Deadline {
  readonly done: boolean;
  expire(): void;
}

/**
 * One request's way upstream, implemented by the runtime: it holds the request (the router
 * sees no bytes), picks the connection the client uses for a host, writes, forgets a try,
 * and keeps deadlines.
 */
export interface UpstreamLink<H extends UpstreamHost = UpstreamHost, C extends UpstreamCluster<H> = UpstreamCluster<H>> {
  /**
   * Binds the next try to a connection of `host` (the client's pinned or own one, or the
   * least loaded); false when that would overflow a limit (max_pending_requests, a mirror's
   * congested connection).
   */
  bind(cluster: C, host: H): boolean;
  /** Writes the request on the bound connection; the answer comes back through onUpstreamResponse/onUpstreamFailure. */
  send(): SendResult;
  /** Forgets the try in flight: its late answer is dropped. */
  forgetTry(): void;
  /** Runs `target.expire()` after `ms` unless it is done by then. */
  schedule(target: Deadline, ms: number): void;
}

/** What makes a try fail in a way worth another try. */
export type RetryOn = 'connect-failure' | 'reset' | 'error-reply' | 'per-try-timeout';

/** A route's retry policy, compiled. */
export interface RetryPolicy {
  readonly retryOn: ReadonlySet<RetryOn>;
  readonly numRetries: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
}

/** A route's `request_mirror_policies` entry, compiled. */
export interface MirrorPolicy {
  readonly cluster: string;
  /** Probability in [0, 1]. */
  readonly fraction: number;
}

/** Per-route counters (admin, quickstart summary). */
export interface RouteCounters {
  requests: number;
  responses: number;
  errors: number;
  localReplies: number;
}

/** The route as the router uses it: the filters' view plus what forwarding needs. */
export interface RouterRoute extends RouteView {
  readonly retryPolicy: RetryPolicy | undefined;
  readonly mirrors: readonly MirrorPolicy[];
  readonly subset: SubsetSelector | undefined;
  readonly stats: RouteCounters;
}

/**
 * The request's bytes as they were before the first try rewrote its id, held for mirror
 * copies. Opaque: only the runtime that made it reads it.
 */
export interface RequestSnapshot {
  readonly byteLength: number;
}

/** Where a request the router sends on its own (a mirror copy) hears how it went. */
export interface CopySink {
  onUpstreamResponse(): void;
  onUpstreamFailure(error: ErrorType, text: string): void;
}

import { ErrorType, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { Message, Metadata, RequestId } from '../../codecs/api/index.js';
import type { DownstreamPeer, Filter } from '../../filters/api/index.js';
import type { Expirable } from '../net/deadline-queue.js';
import { faultText, reportFault } from '../net/fault.js';
import { hashOfValues } from '../upstream/lb/xxhash64.js';
import type { ExchangeTrace, ObservedExchange } from '../observability/observed-exchange.js';
import type { RetryOn, RouteEntry } from '../route/route-table.js';
import { countLocalError } from '../stats.js';
import type { ClusterStats } from '../stats.js';
import type { Cluster, Host } from '../upstream/cluster.js';
import type { UpstreamConnection, UpstreamRequest } from '../upstream/upstream-connection.js';
import type { ExchangeHost } from './exchange-host.js';
import { runRequestFilters } from './filter-chain.js';
import type { ChainSubject } from './filter-chain.js';
import type { InflightLinks } from './inflight-list.js';
import { mirrorRequest } from './mirror-request.js';

/**
 * One request and its answer. It ends exactly once: with the upstream's response, with a
 * local error reply, or (one-way) once forwarded.
 */
export class Exchange implements ChainSubject, UpstreamRequest, Expirable, ObservedExchange, InflightLinks {
  readonly request: Message;
  readonly downstreamRequestId: RequestId;
  readonly #down: ExchangeHost;
  readonly #filters: readonly Filter[];
  response: Message | undefined = undefined;
  requestMutation: Map<string, string> | null = null;
  #responseMutation: Map<string, string> | null = null;
  /** undefined: not matched yet; null: matched nothing. */
  #route: RouteEntry | null | undefined = undefined;
  #upstream: UpstreamConnection | undefined = undefined;
  /** The id this request carries on its upstream connection. */
  #upstreamId = 0;
  done = false;
  readonly startTime = performance.now();
  /** Set when the exchange ended with a local error reply (access log, metrics). */
  localError: ErrorType | undefined = undefined;
  /** True when the client went away before its answer. */
  abandoned = false;
  /** Bytes of the answer written to the client. */
  responseBytes = 0;
  /** Tracing state; undefined unless tracing is on for the listener. */
  trace: ExchangeTrace | undefined = undefined;
  #cluster: Cluster | undefined = undefined;
  #host: Host | undefined = undefined;
  /** Tries sent so far, and a token that tells a try's timer whether its try is current. */
  #tries = 0;
  #attempt = 0;
  /** True once this exchange counts in its cluster's retries in flight. */
  #retrying = false;
  /** Links of the client connection's list of exchanges in flight (owned by that list). */
  inflightPrev: InflightLinks | null = null;
  inflightNext: InflightLinks | null = null;
  inflightList: object | null = null;

  constructor(down: ExchangeHost, request: Message, filters: readonly Filter[]) {
    this.#down = down;
    this.request = request;
    this.downstreamRequestId = request.requestId;
    this.#filters = filters;
    const obs = down.listener.observer;
    if (obs !== undefined && obs.wantsStart) obs.onStart(this);
  }

  get routeName(): string | undefined {
    return this.#route?.name;
  }

  get upstreamCluster(): string | undefined {
    return this.#cluster?.name;
  }

  get upstreamHost(): string | undefined {
    return this.#host?.id;
  }

  get upstreamClusterStats(): ClusterStats | undefined {
    return this.#cluster?.stats;
  }

  get downstreamLocalAddress(): string {
    return this.#down.localAddress;
  }

  get metadata(): Metadata {
    return this.request.metadata;
  }

  get downstreamRemoteAddress(): string {
    return this.#down.remoteAddress;
  }

  get downstreamPeer(): DownstreamPeer | undefined {
    return this.#down.peer;
  }

  /** Runs the filter chain from filter `from` on; stays synchronous unless a filter is not. */
  start(from = 0): void {
    runRequestFilters(this.#filters, this, from);
  }

  filterChainOpen(): boolean {
    return !this.done;
  }

  route(): RouteEntry | undefined {
    if (this.#route === undefined) {
      this.#route = this.#down.listener.routes.current.match(this.request.metadata) ?? null;
      if (this.#route !== null) this.#route.stats.requests++;
    }
    return this.#route ?? undefined;
  }

  /** The route's hash policy over this request's metadata (Aeraki: sorted values, chained XXH64). */
  #hashKey(): bigint | undefined {
    const keys = this.#route?.hashKeys;
    if (keys === undefined || keys.length === 0) return undefined;
    const md = this.request.metadata;
    return hashOfValues(keys.map((k) => md.get(k) ?? ''));
  }

  clusterHost(cluster: string): Host | undefined {
    return this.#down.listener.clusters.get(cluster)?.pick();
  }

  setRequestHeader(key: string, value: string): void {
    (this.requestMutation ??= new Map()).set(key, value);
  }

  setResponseHeader(key: string, value: string): void {
    (this.#responseMutation ??= new Map()).set(key, value);
  }

  forward(clusterName: string): void {
    const listener = this.#down.listener;
    const cluster = listener.clusters.get(clusterName);
    if (cluster === undefined) {
      this.sendLocalReply(ErrorType.ClusterNotFound, `meta protocol router: unknown cluster '${clusterName}'`);
      return;
    }
    if (!cluster.admitRequest()) {
      cluster.stats.upstream_rq_pending_overflow++;
      this.sendLocalReply(ErrorType.OverLimit, `meta protocol upstream request: too many requests to '${clusterName}' (circuit breaker)`);
      return;
    }
    const mirrors = this.#route?.mirrors;
    // The copy is taken before the id is rewritten in place for the main request.
    const pristine = mirrors !== undefined && mirrors.length > 0 ? Buffer.from(this.request.frame) : undefined;
    this.#cluster = cluster;
    cluster.stats.upstream_rq_total++;
    cluster.stats.upstream_rq_active++;
    cluster.stats.upstream_rq_tx_bytes += this.request.frame.length;
    if (!this.#sendTry(undefined)) return;
    const timeoutMs = this.#route?.timeoutMs ?? listener.requestTimeoutMs;
    if (pristine !== undefined) for (const m of mirrors!) mirrorRequest(listener, m, pristine, this.requestMutation, timeoutMs);
    if (this.request.type === MessageType.Oneway) {
      cluster.stats.upstream_rq_oneway++;
      this.#finish();
      return;
    }
    // A timeout of 0 disables it, as in Envoy (docs/configuration.md).
    if (!this.done && timeoutMs > 0) listener.deadlines.add(this, timeoutMs);
  }

  /**
   * Sends one try to a host of the exchange's cluster (another host than `avoid` when the
   * cluster has one). Returns false when the exchange ended with a local reply instead.
   */
  #sendTry(avoid: Host | undefined): boolean {
    const listener = this.#down.listener;
    const cluster = this.#cluster!;
    const hashKey = cluster.usesHash ? this.#hashKey() : undefined;
    const subset = this.#route?.subset;
    let host = cluster.pick(hashKey, subset);
    for (let i = 0; i < 2 && avoid !== undefined && host === avoid && hashKey === undefined; i++) host = cluster.pick(undefined, subset);
    if (host === undefined) {
      this.sendLocalReply(ErrorType.NoHealthyUpstream, `meta protocol router: no healthy upstream for '${cluster.name}'`);
      return false;
    }
    if (this.#host !== undefined) this.#host.stats.rq_active--;
    this.#host = host;
    host.stats.rq_total++;
    host.stats.rq_active++;
    const obs = listener.observer;
    if (obs !== undefined && obs.wantsStart && this.#tries === 0) obs.onUpstream(this);
    // A client pinned to its own upstream connection (bRPC streams) uses it for its cluster;
    // otherwise the client keeps to one connection per host, so its calls arrive in order.
    const conn = this.#down.pinnedUpstream?.(cluster, host) ?? this.#down.upstreamFor(host.pool(listener.codecFactory, listener.codecContext, this.request.upstreamKey));
    if (conn.queuedCount > 0 && cluster.pendingRequests() >= cluster.maxPendingRequests) {
      cluster.stats.upstream_rq_pending_overflow++;
      this.sendLocalReply(ErrorType.OverLimit, `meta protocol upstream request: too many pending requests to '${cluster.name}' (circuit breaker)`);
      return false;
    }
    this.#upstream = conn;
    this.#tries++;
    const attempt = ++this.#attempt;
    const unencodable = conn.send(this);
    this.#upstreamId = this.request.requestId as number;
    if (unencodable !== undefined) {
      this.sendLocalReply(ErrorType.BadRequest, `meta protocol router: ${unencodable.message}`);
      return false;
    }
    const perTry = this.#route?.retryPolicy?.perTryTimeoutMs;
    if (perTry !== undefined && this.request.type !== MessageType.Oneway && !this.done) {
      // The timer is stale once the exchange ended or a newer try replaced this one.
      const stale = (): boolean => this.done || this.#attempt !== attempt;
      listener.deadlines.add(
        {
          get done(): boolean {
            return stale();
          },
          expire: () => {
            try {
              this.#onPerTryTimeout(attempt);
            } catch (err) {
              this.onFault('per-try timeout', err);
            }
          },
        },
        perTry,
      );
    }
    return true;
  }

  /** True when the route's retry policy allows another try after a failure of `kind`. */
  #mayRetry(kind: RetryOn): boolean {
    const policy = this.#route?.retryPolicy;
    if (policy === undefined || this.request.type === MessageType.Oneway || !policy.retryOn.has(kind)) return false;
    if (this.#tries > policy.numRetries) return false;
    const cluster = this.#cluster!;
    if (!this.#retrying && !cluster.admitRetry()) {
      cluster.stats.upstream_rq_retry_overflow++;
      return false;
    }
    return true;
  }

  /** Forgets the failed try and sends another after Envoy's jittered exponential back-off. */
  #retry(): void {
    const cluster = this.#cluster!;
    const policy = this.#route!.retryPolicy!;
    this.#upstream?.forget(this.#upstreamId);
    this.#upstream = undefined;
    this.#attempt++;
    if (!this.#retrying) {
      this.#retrying = true;
      cluster.retriesActive++;
    }
    cluster.stats.upstream_rq_retry++;
    const ceiling = Math.min(policy.baseIntervalMs * 2 ** (this.#tries - 1), policy.maxIntervalMs);
    const failed = this.#host;
    setTimeout(() => {
      if (this.done) return;
      try {
        this.#sendTry(failed);
      } catch (err) {
        this.onFault('retry', err);
      }
    }, Math.random() * ceiling);
  }

  #onPerTryTimeout(attempt: number): void {
    if (this.done || attempt !== this.#attempt) return;
    this.#cluster?.reportResult(this.#host!, false);
    if (this.#mayRetry('per-try-timeout')) {
      this.#retry();
      return;
    }
    this.#upstream?.forget(this.#upstreamId);
    this.sendLocalReply(ErrorType.Timeout, `meta protocol router: upstream request per-try timeout after ${this.#route?.retryPolicy?.perTryTimeoutMs} ms`);
  }

  onUpstreamResponse(response: Message): void {
    if (this.done) return;
    // Response filters, the id restore and the encode are this exchange's: a throw there is
    // its error reply, never the failure of the shared upstream connection.
    try {
      this.#onResponse(response);
    } catch (err) {
      this.onFault('response', err);
    }
  }

  #onResponse(response: Message): void {
    const failed = response.status === ResponseStatus.Error;
    if (this.#host !== undefined) this.#cluster?.reportResult(this.#host, !failed);
    if (failed && this.#mayRetry('error-reply')) {
      this.#retry();
      return;
    }
    this.response = response;
    const route = this.#route ?? undefined;
    for (const f of this.#filters) f.onResponse?.(this);
    const listener = this.#down.listener;
    const stats = listener.stats;
    stats.response++;
    if (response.type === MessageType.Error) {
      stats.response_business_exception++;
      if (route !== undefined) route.stats.errors++;
    } else stats.response_success++;
    if (route !== undefined) route.stats.responses++;
    // The upstream's codec restores the client's id; the downstream codec applies the mutation.
    this.#down.restoreId(response, this.downstreamRequestId);
    const out = this.#down.codec.encode(response, this.#responseMutation);
    if (out instanceof Error) {
      this.sendLocalReply(ErrorType.BadResponse, `meta protocol router: ${out.message}`);
      return;
    }
    this.responseBytes = out.length;
    this.#down.write(out);
    this.#finish();
  }

  onUpstreamFailure(error: ErrorType, text: string): void {
    if (this.done) return;
    try {
      if (this.#host !== undefined) this.#cluster?.reportResult(this.#host, false);
      if (this.#mayRetry(error === ErrorType.NoHealthyUpstream ? 'connect-failure' : 'reset')) {
        this.#retry();
        return;
      }
      this.sendLocalReply(error, text);
    } catch (err) {
      this.onFault('upstream failure', err);
    }
  }

  /**
   * An exception in this exchange's own work (a filter, an encode, a timer): counted, logged
   * and answered with the codec's error reply. When even that throws, the client connection
   * closes. Nothing reaches the process.
   */
  onFault(where: string, err: unknown): void {
    const down = this.#down;
    down.listener.stats.internal_error++;
    reportFault(where, err, { listener: down.listener.name, client: down.remoteAddress });
    if (this.done) return;
    try {
      this.sendLocalReply(ErrorType.Unspecified, `meta protocol: internal error in ${where}: ${faultText(err)}`);
    } catch (again) {
      down.closeOnFault(`${where} error reply`, again);
    }
  }

  pauseSource(): void {
    this.#down.pause();
  }

  resumeSource(): void {
    this.#down.resume();
  }

  expire(): void {
    if (this.done) return;
    try {
      this.#expire();
    } catch (err) {
      this.onFault('timeout', err);
    }
  }

  #expire(): void {
    const listener = this.#down.listener;
    listener.stats.request_timeout++;
    if (this.#host !== undefined) this.#cluster?.reportResult(this.#host, false);
    if (this.#host !== undefined) {
      this.#host.stats.rq_timeout++;
      this.#cluster!.stats.upstream_rq_timeout++;
    }
    this.#upstream?.forget(this.#upstreamId);
    const ms = this.#route?.timeoutMs ?? listener.requestTimeoutMs;
    this.sendLocalReply(ErrorType.Timeout, `meta protocol router: upstream request timeout after ${ms} ms`);
  }

  sendLocalReply(error: ErrorType, text: string): void {
    if (this.done) return;
    const listener = this.#down.listener;
    listener.stats.local_response_business_exception++;
    countLocalError(listener.stats, error, this.#host !== undefined);
    this.localError = error;
    if (this.#route) this.#route.stats.localReplies++;
    if (this.#upstream !== undefined && this.request.type !== MessageType.Oneway) this.#upstream.forget(this.#upstreamId);
    if (this.request.type !== MessageType.Oneway) {
      // errorReply reads the id from the message: give it back the client's.
      this.request.requestId = this.downstreamRequestId;
      const reply = this.#down.codec.errorReply(this.request, error, text);
      this.responseBytes = reply.length;
      this.#down.write(reply);
    }
    this.#finish();
  }

  /** The client went away: nothing more is written; a late response is dropped. */
  abandon(): void {
    if (this.done) return;
    this.abandoned = true;
    if (this.#upstream !== undefined) this.#upstream.forget(this.#upstreamId);
    this.#finish();
  }

  #finish(): void {
    this.done = true;
    if (this.#retrying) {
      this.#cluster!.retriesActive--;
      if (this.response !== undefined) this.#cluster!.stats.upstream_rq_retry_success++;
    }
    const cluster = this.#cluster;
    if (cluster !== undefined) {
      const cs = cluster.stats;
      cs.upstream_rq_active--;
      const host = this.#host;
      if (host !== undefined) host.stats.rq_active--;
      if (this.response !== undefined) {
        if (host !== undefined) host.stats.rq_success++;
        cs.upstream_rq_completed++;
        cs.upstream_rs_rx_bytes += this.response.frame.length;
      } else if (this.localError !== undefined) {
        if (host !== undefined) host.stats.rq_error++;
        cs.upstream_rq_error++;
      }
    }
    // One check when every observability feature is off: nothing else is paid.
    const obs = this.#down.listener.observer;
    if (obs !== undefined) obs.onEnd(this);
    this.#down.onExchangeDone(this);
  }
}

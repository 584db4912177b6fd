import { ErrorType, MessageType } from '../../codecs/api/index.js';
import type { Message, Metadata, RequestId } from '../../codecs/api/index.js';
import type { CopySink, Deadline, DownstreamPeer, Filter, RequestSnapshot, SendResult } from '../../filters/api/index.js';
import { UpstreamRequest } from '../../filters/router/index.js';
import type { Outcome } from '../../filters/router/index.js';
import { faultText, reportFault } from '../net/fault.js';
import type { ExchangeTrace, ObservedExchange } from '../observability/observed-exchange.js';
import type { RouteEntry } from '../route/route-table.js';
import { countLocalError } from '../stats.js';
import type { ClusterStats } from '../stats.js';
import type { Cluster, Host } from '../upstream/cluster.js';
import type { UpstreamConnection } from '../upstream/upstream-connection.js';
import type { ExchangeHost } from './exchange-host.js';
import { runRequestFilters } from './filter-chain.js';
import type { ChainSubject } from './filter-chain.js';
import type { InflightLinks } from './inflight-list.js';
import { MirrorCopy } from './mirror-request.js';

/**
 * One request and its answer. It ends exactly once: with the upstream's response, with a
 * local error reply, or (one-way) once forwarded. Its upstream side (admission, host
 * choice, tries, retries, timeouts, mirrors) is the router's UpstreamRequest, which it
 * extends with what only the runtime has: the bytes, the connections, the client.
 */
export class Exchange extends UpstreamRequest<Host, Cluster> implements ChainSubject, ObservedExchange, InflightLinks {
  readonly request: Message;
  readonly downstreamRequestId: RequestId;
  readonly #down: ExchangeHost;
  readonly #filters: readonly Filter[];
  response: Message | undefined = undefined;
  requestMutation: Map<string, string> | null = null;
  #responseMutation: Map<string, string> | null = null;
  /** undefined: not matched yet; null: matched nothing. */
  #route: RouteEntry | null | undefined = undefined;
  /** The connection of the try in flight, and the id the request carries on it. */
  #upstream: UpstreamConnection | undefined = undefined;
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
  /** Links of the client connection's list of exchanges in flight (owned by that list). */
  inflightPrev: InflightLinks | null = null;
  inflightNext: InflightLinks | null = null;
  inflightList: object | null = null;

  constructor(down: ExchangeHost, request: Message, filters: readonly Filter[]) {
    super();
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
    return this.upstreamTarget?.name;
  }

  get upstreamHost(): string | undefined {
    return this.upstreamPick?.id;
  }

  get upstreamClusterStats(): ClusterStats | undefined {
    return this.upstreamTarget?.stats;
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

  clusterHost(cluster: string): Host | undefined {
    return this.#down.listener.clusters.get(cluster)?.anyHost();
  }

  setRequestHeader(key: string, value: string): void {
    (this.requestMutation ??= new Map()).set(key, value);
  }

  setResponseHeader(key: string, value: string): void {
    (this.#responseMutation ??= new Map()).set(key, value);
  }

  // ---- What the router's UpstreamRequest asks of the runtime (filters/api UpstreamLink). ----

  get oneway(): boolean {
    return this.request.type === MessageType.Oneway;
  }

  protected get requestBytes(): number {
    return this.request.frame.length;
  }

  protected get clusters(): ReadonlyMap<string, Cluster> {
    return this.#down.listener.clusters;
  }

  protected get defaultTimeoutMs(): number {
    return this.#down.listener.requestTimeoutMs;
  }

  /**
   * A client pinned to its own upstream connection (bRPC streams) uses it for its cluster;
   * otherwise the client keeps to one connection per host, so its calls arrive in order.
   */
  bind(cluster: Cluster, host: Host): boolean {
    const listener = this.#down.listener;
    const conn = this.#down.pinnedUpstream?.(cluster, host) ?? this.#down.upstreamFor(host.pool(listener.codecFactory, listener.codecContext, this.request.upstreamKey));
    if (conn.queuedCount > 0 && cluster.pendingRequests() >= cluster.maxPendingRequests) return false;
    this.#upstream = conn;
    return true;
  }

  send(): SendResult {
    const unencodable = this.#upstream!.send(this);
    this.#upstreamId = this.request.requestId as number;
    return unencodable;
  }

  forgetTry(): void {
    this.#upstream?.forget(this.#upstreamId);
    this.#upstream = undefined;
  }

  schedule(target: Deadline, ms: number): void {
    this.#down.listener.deadlines.add(target, ms);
  }

  protected snapshot(): RequestSnapshot {
    return Buffer.from(this.request.frame);
  }

  openCopy(snapshot: RequestSnapshot, sink: CopySink): MirrorCopy | undefined {
    return MirrorCopy.decode(this.#down.listener, snapshot, this.request.type, this.requestMutation, sink);
  }

  protected onFirstTry(): void {
    const obs = this.#down.listener.observer;
    if (obs !== undefined && obs.wantsStart) obs.onUpstream(this);
  }

  protected countTimeout(): void {
    this.#down.listener.stats.request_timeout++;
  }

  protected endForwarded(): void {
    this.#finish();
  }

  protected deliver(response: Message): void {
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

  sendLocalReply(error: ErrorType, text: string): void {
    if (this.done) return;
    const listener = this.#down.listener;
    listener.stats.local_response_business_exception++;
    countLocalError(listener.stats, error, this.upstreamPick !== undefined);
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
    const outcome: Outcome = this.response !== undefined ? 'response' : this.localError !== undefined ? 'local-reply' : 'none';
    this.settleUpstream(outcome, this.response?.frame.length ?? 0);
    // One check when every observability feature is off: nothing else is paid.
    const obs = this.#down.listener.observer;
    if (obs !== undefined) obs.onEnd(this);
    this.#down.onExchangeDone(this);
  }
}

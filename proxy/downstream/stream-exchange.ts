import { EMPTY_METADATA, ErrorType, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { Message, Metadata, RequestId } from '../../codecs/api/index.js';
import type { Filter, SubsetSelector } from '../../filters/api/index.js';
import { admitTo, pickAndBind } from '../../filters/router/index.js';
import type { Bindable } from '../../filters/router/index.js';
import { faultText, reportFault } from '../net/fault.js';
import type { RouteEntry } from '../route/route-table.js';
import { countLocalError } from '../stats.js';
import type { Cluster, Host } from '../upstream/cluster.js';
import type { UpstreamConnection, UpstreamStream } from '../upstream/upstream-connection.js';
import type { ExchangeHost } from './exchange-host.js';
import { runRequestFilters } from './filter-chain.js';
import type { ChainSubject } from './filter-chain.js';

const NO_KEYS: readonly string[] = [];

/** The table a stream belongs to: its client connection, and who forgets it when it ends. */
export interface StreamOwner {
  readonly host: ExchangeHost;
  onStreamEnd(stream: DownstreamStream): void;
}

const enum StreamState {
  /** The INIT is in the filter chain; client frames wait in order. */
  Routing,
  /** Bound to an upstream connection; frames flow both ways. */
  Open,
  Ended,
}

/**
 * One client stream (tRPC streaming). Its INIT runs the filter chain and routing like a
 * request; the router's `forward` binds the stream to one shared upstream connection under
 * an id unique on that connection (the client's id is restored on every frame coming back).
 * It ends when both sides closed, when either side resets, when its upstream connection
 * fails, when its client leaves, or when no frame went either way for the idle timeout.
 */
export class DownstreamStream implements ChainSubject, UpstreamStream, Bindable<Host, Cluster> {
  /** The INIT frame. Its stream id becomes the upstream one once forwarded. */
  readonly request: Message;
  /** The client's stream id. */
  readonly downstreamRequestId: RequestId;
  readonly clientStreamId: number;
  /** The upstream's INIT answer, once it came. */
  response: Message | undefined = undefined;
  requestMutation: Map<string, string> | null = null;
  /** Set by every frame either way; the owner's idle sweep clears it. */
  active = true;
  /** When the owner's sweep last found the stream active. */
  idleSince = 0;
  readonly #owner: StreamOwner;
  readonly #down: ExchangeHost;
  readonly #filters: readonly Filter[];
  #responseMutation: Map<string, string> | null = null;
  #route: RouteEntry | null | undefined = undefined;
  #state = StreamState.Routing;
  #waiting: Message[] | null = null;
  #upstream: UpstreamConnection | undefined = undefined;
  #upstreamId = 0;
  /** The cluster and host the stream went to: it counts as a request in flight there. */
  #cluster: Cluster | undefined = undefined;
  #host: Host | undefined = undefined;
  /** A stream has one try: no host to avoid. */
  readonly avoid: Host | undefined = undefined;
  #initAnswered = false;
  #clientClosed = false;
  #serverClosed = false;

  constructor(owner: StreamOwner, init: Message, filters: readonly Filter[]) {
    this.#owner = owner;
    this.#down = owner.host;
    this.request = init;
    this.clientStreamId = init.streamId;
    this.downstreamRequestId = init.streamId;
    this.#filters = filters;
  }

  get metadata(): Metadata {
    return this.request.metadata;
  }

  get downstreamRemoteAddress(): string {
    return this.#down.remoteAddress;
  }

  get ended(): boolean {
    return this.#state === StreamState.Ended;
  }

  /** Runs the filter chain on the INIT from filter `from` on, as an Exchange does. */
  start(from = 0): void {
    runRequestFilters(this.#filters, this, from);
  }

  filterChainOpen(): boolean {
    return this.#state === StreamState.Routing;
  }

  clusterHost(cluster: string): Host | undefined {
    return this.#down.listener.clusters.get(cluster)?.anyHost();
  }

  get hashKeys(): readonly string[] {
    return this.route()?.hashKeys ?? NO_KEYS;
  }

  get subset(): SubsetSelector | undefined {
    return this.route()?.subset;
  }

  route(): RouteEntry | undefined {
    if (this.#route === undefined) {
      this.#route = this.#down.listener.routes.current.match(this.request.metadata) ?? null;
      if (this.#route !== null) this.#route.stats.requests++;
    }
    return this.#route ?? undefined;
  }

  setRequestHeader(key: string, value: string): void {
    (this.requestMutation ??= new Map()).set(key, value);
  }

  setResponseHeader(key: string, value: string): void {
    (this.#responseMutation ??= new Map()).set(key, value);
  }

  /**
   * Binds the stream to an upstream connection of `clusterName` and sends the INIT. It takes
   * the requests' forward path (filters/router/forward.ts): admission, the same host choice
   * (hash policy, subset), the same local replies; the stream counts as a request in flight
   * of its cluster and host until it ends.
   */
  forward(clusterName: string): void {
    if (this.#state !== StreamState.Routing) return;
    const cluster = admitTo(this.#down.listener.clusters, clusterName, this);
    if (cluster === undefined) return;
    const host = pickAndBind(cluster, this);
    if (host === undefined) return;
    this.#cluster = cluster;
    this.#host = host;
    cluster.stats.upstream_rq_total++;
    cluster.stats.upstream_rq_active++;
    host.stats.rq_total++;
    host.stats.rq_active++;
    const conn = this.#upstream!;
    this.#upstreamId = conn.openStream(this);
    this.#state = StreamState.Open;
    conn.sendStreamFrame(this, this.request, this.#upstreamId, this.requestMutation);
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting !== null) for (const m of waiting) this.fromClient(m);
  }

  /** A DATA, FEEDBACK, CLOSE or RESET frame from the client. */
  fromClient(msg: Message): void {
    this.active = true;
    if (this.#state === StreamState.Routing) {
      (this.#waiting ??= []).push(msg);
      return;
    }
    if (this.#state !== StreamState.Open) return;
    if (msg.type === MessageType.StreamCloseOneWay) this.#clientClosed = true;
    this.#upstream!.sendStreamFrame(this, msg, this.#upstreamId, null);
    if (msg.type === MessageType.StreamCloseTwoWay) {
      this.#down.listener.stats.stream_reset++;
      this.#end();
    } else if (this.#clientClosed && this.#serverClosed) this.#end();
  }

  /**
   * A frame of this stream from the upstream. An exception in its handling resets this
   * stream only, not the upstream connection that other clients share.
   */
  onUpstreamStreamFrame(msg: Message): void {
    if (this.#state !== StreamState.Open) return;
    try {
      this.#fromUpstream(msg);
    } catch (err) {
      this.onFault('stream frame', err);
    }
  }

  /** An exception in this stream's work: counted, logged, the stream reset both ways. */
  onFault(where: string, err: unknown): void {
    const down = this.#down;
    down.listener.stats.internal_error++;
    reportFault(where, err, { listener: down.listener.name, client: down.remoteAddress });
    try {
      this.sendLocalReply(ErrorType.Unspecified, `meta protocol: internal error in ${where}: ${faultText(err)}`);
    } catch (again) {
      down.closeOnFault(`${where} error reply`, again);
    }
  }

  /** The client's id goes back in, then the frame is written. */
  #fromUpstream(msg: Message): void {
    this.active = true;
    const down = this.#down;
    down.codec.setRequestId(msg, this.clientStreamId);
    switch (msg.type) {
      case MessageType.StreamInit: {
        this.#initAnswered = true;
        this.response = msg;
        for (const f of this.#filters) f.onResponse?.(this);
        const out = down.codec.encode(msg, this.#responseMutation);
        // No built-in codec fails on an INIT answer; another codec's failure sends it unmutated.
        down.write(out instanceof Error ? msg.frame : out);
        // A refused INIT (ret != 0) ends the stream on the server's side.
        if (msg.status !== ResponseStatus.Ok) this.#end();
        return;
      }
      case MessageType.StreamCloseOneWay:
        this.#serverClosed = true;
        down.write(msg.frame);
        if (this.#clientClosed) this.#end();
        return;
      case MessageType.StreamCloseTwoWay:
        down.write(msg.frame);
        down.listener.stats.stream_reset++;
        this.#end();
        return;
      default:
        down.write(msg.frame);
    }
  }

  /** The upstream connection failed: the client learns at once, with the codec's error. */
  onUpstreamFailure(error: ErrorType, text: string): void {
    if (this.#state !== StreamState.Open) return;
    const stats = this.#down.listener.stats;
    stats.upstream_reset++;
    stats.stream_reset++;
    this.#upstream = undefined;
    this.#replyError(error, text);
    this.#end();
  }

  /** A stream shares its host's connections: the least loaded one, within max_pending_requests. */
  bind(cluster: Cluster, host: Host): boolean {
    const listener = this.#down.listener;
    const conn = host.pool(listener.codecFactory, listener.codecContext, this.request.upstreamKey).pick();
    if (conn.queuedCount > 0 && cluster.pendingRequests() >= cluster.maxPendingRequests) return false;
    this.#upstream = conn;
    return true;
  }

  pauseSource(): void {
    this.#down.pause();
  }

  resumeSource(): void {
    this.#down.resume();
  }

  /** Answers the client with an INIT refusal (before the upstream's INIT answer) or a RESET. */
  sendLocalReply(error: ErrorType, text: string): void {
    if (this.#state === StreamState.Ended) return;
    const stats = this.#down.listener.stats;
    stats.local_response_business_exception++;
    countLocalError(stats, error, this.#host !== undefined);
    if (this.#route) this.#route.stats.localReplies++;
    this.#resetUpstream(error, text);
    this.#replyError(error, text);
    this.#end();
  }

  /** No frame either way for `idleMs`: reset both sides. */
  expire(idleMs: number): void {
    if (this.#state === StreamState.Ended) return;
    const stats = this.#down.listener.stats;
    stats.stream_idle_timeout++;
    stats.stream_reset++;
    const text = `meta protocol stream: idle for ${idleMs} ms`;
    this.#resetUpstream(ErrorType.Timeout, text);
    this.#replyError(ErrorType.Timeout, text);
    this.#end();
  }

  /** The client went away: the upstream stream is reset, nothing goes to the client. */
  abandon(): void {
    if (this.#state === StreamState.Ended) return;
    this.#down.listener.stats.stream_reset++;
    this.#resetUpstream(ErrorType.UpstreamReset, 'meta protocol stream: client connection closed');
    this.#end();
  }

  #replyError(error: ErrorType, text: string): void {
    const type = this.#initAnswered ? MessageType.StreamData : MessageType.StreamInit;
    this.#down.write(this.#down.codec.errorReply(this.#probe(type, this.clientStreamId), error, text));
  }

  #resetUpstream(error: ErrorType, text: string): void {
    const conn = this.#upstream;
    if (conn === undefined || conn.closed || this.#state !== StreamState.Open) return;
    // A RESET is the same frame in both directions; the server codec builds it.
    conn.writeRaw(this.#down.codec.errorReply(this.#probe(MessageType.StreamData, this.#upstreamId), error, text));
  }

  /**
   * A message standing for this stream when asking the codec for an error frame: the INIT's
   * bytes (protocol version and framing), with `type` choosing an INIT answer or a RESET.
   */
  #probe(type: MessageType, streamId: number): Message {
    const init = this.request;
    return {
      type,
      requestId: streamId,
      streamId,
      frame: init.frame,
      headerSize: init.headerSize,
      bodySize: init.bodySize,
      status: init.status,
      operationName: '',
      metadata: EMPTY_METADATA,
      upstreamKey: init.upstreamKey,
    };
  }

  #end(): void {
    if (this.#state === StreamState.Ended) return;
    this.#state = StreamState.Ended;
    this.#waiting = null;
    this.#upstream?.closeStream(this.#upstreamId);
    if (this.#cluster !== undefined) this.#cluster.stats.upstream_rq_active--;
    if (this.#host !== undefined) this.#host.stats.rq_active--;
    this.#owner.onStreamEnd(this);
  }
}

import type { Socket } from 'node:net';
import { ErrorType, FrameReader, MessageType } from '../../codecs/api/index.js';
import type { CodecError, Message, RequestId, ServerCodec } from '../../codecs/api/index.js';
import type { ConnectionInfo } from '../../filters/api/index.js';
import { logger } from '../logger.js';
import { reportFault } from '../net/fault.js';
import { coarseClock } from '../net/coarse-clock.js';
import { WriteQueue } from '../net/write-queue.js';
import type { Cluster, Host } from '../upstream/cluster.js';
import { DedicatedUpstream } from '../upstream/dedicated-upstream.js';
import type { PinnedClient } from '../upstream/dedicated-upstream.js';
import type { UpstreamConnection } from '../upstream/upstream-connection.js';
import type { UpstreamPool } from '../upstream/upstream-pool.js';
import { connectionInfoOf } from './connection-info.js';
import type { DownstreamPeer } from '../tls/downstream-peer.js';
import { Exchange } from './exchange.js';
import { InflightList } from './inflight-list.js';
import type { ExchangeHost } from './exchange-host.js';
import type { SweptConnection } from './connection-sweeper.js';
import { DrainState } from './drain-state.js';
import type { ListenerRuntime } from './listener-runtime.js';
import { StreamTable } from './stream-table.js';
import { UpstreamAffinity } from './upstream-affinity.js';
import { ReplyBacklog } from './reply-backlog.js';

/** The connection a socket serves, so that one set of event handlers serves every socket. */
const CONNECTION = Symbol('meltemi.downstream');
type ServedSocket = Socket & { [CONNECTION]: DownstreamConnection };

function onSocketData(this: ServedSocket, chunk: Buffer): void {
  const conn = this[CONNECTION];
  // The boundary of everything a chunk sets off (decode, filters, routing, encode, write):
  // an exception closes this one connection, never the process.
  try {
    conn.onData(chunk);
  } catch (err) {
    conn.closeOnFault('request handling', err);
  }
}
function onSocketDrain(this: ServedSocket): void {
  this[CONNECTION].onDrain();
}
/** Decodes requests left in the reader while the connection was paused (setImmediate). */
function decodeBuffered(conn: DownstreamConnection): void {
  try {
    conn.decodeBuffered();
  } catch (err) {
    conn.closeOnFault('request handling', err);
  }
}
function onSocketError(this: ServedSocket, err: Error): void {
  logger.debug({ client: this[CONNECTION].remoteAddress, err: err.message }, 'downstream socket error');
}
function onSocketClose(this: ServedSocket): void {
  try {
    this[CONNECTION].onSocketClose();
  } catch (err) {
    reportFault('connection close', err, { client: this[CONNECTION].remoteAddress });
  }
}

/**
 * One client connection: decodes requests, answers heartbeats itself, runs an Exchange per
 * request, and writes responses back (coalesced per event-loop turn).
 *
 * A sidecar holds thousands of mostly idle client connections, so what each one costs is
 * kept small: no closures per socket, addresses read when first asked for, and the exchanges
 * in flight linked through themselves (inflight-list.ts).
 */
export class DownstreamConnection implements ExchangeHost, PinnedClient, SweptConnection {
  readonly listener: ListenerRuntime;
  readonly codec: ServerCodec;
  #remoteAddress: string | undefined;
  #localAddress: string | undefined;
  #connectionInfo: ConnectionInfo | undefined;
  /** False until the listener's network RBAC filters let this connection through. */
  #authorized: boolean;
  readonly #socket: Socket;
  readonly #reader = new FrameReader();
  readonly #out: WriteQueue;
  readonly #inflight = new InflightList<Exchange>();
  #pauseCount = 0;
  /** Set while this connection paused itself because its client reads too slowly. */
  #backlog: ReplyBacklog | undefined;
  /** Size of the last reply written: the guess for replies still owed (ReplyBacklog). */
  #replyBytes = 0;
  #decodeScheduled = false;
  #affinity: UpstreamAffinity | undefined;
  #closed = false;
  /** Coarse-clock times the listener's sweep reads (connection-sweeper.ts). */
  lastReadAt = coarseClock.now;
  partialSince = 0;
  /** Drain progress: go-away sent, reading stopped, closing once idle (drain-state.ts). */
  readonly #drain = new DrainState();
  readonly #onClosed: (c: DownstreamConnection) => void;
  /** Multiplexed streams (tRPC), created with the first one. */
  #streams: StreamTable | undefined;
  /** Set when the codec pins streams (bRPC option pinStreams): this client's own upstream. */
  readonly #pinned: DedicatedUpstream | undefined;

  /** What the TLS accept path learned in the handshake (or the plaintext facts); feeds connectionInfo. */
  readonly peer: DownstreamPeer | undefined;

  /**
   * `originalDestination`: where an intercepted connection was going, as the listener that
   * accepted (or was handed) it recovered it. `peer`: the TLS handshake's facts.
   */
  constructor(
    socket: Socket,
    listener: ListenerRuntime,
    onClosed: (c: DownstreamConnection) => void,
    originalDestination?: { readonly address: string; readonly port: number },
    peer?: DownstreamPeer,
  ) {
    this.#socket = socket;
    this.originalDestination = originalDestination;
    this.peer = peer;
    this.listener = listener;
    this.#onClosed = onClosed;
    this.codec = listener.codecFactory.createServerCodec(listener.codecContext);
    this.#authorized = listener.networkRbac === undefined;
    this.#pinned =
      listener.codecContext.options['pinStreams'] === true ? new DedicatedUpstream(this, listener.codecFactory, listener.codecContext) : undefined;
    this.#out = new WriteQueue(socket);
    socket.setNoDelay(true);
    (socket as ServedSocket)[CONNECTION] = this;
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    listener.stats.cx_total++;
    listener.stats.cx_active++;
  }

  /** Where an intercepted connection was going (ORIGINAL_DST clusters connect there); undefined when not recovered. */
  readonly originalDestination: { readonly address: string; readonly port: number } | undefined;

  /** `address:port` of the client. */
  get remoteAddress(): string {
    return (this.#remoteAddress ??= `${this.#socket.remoteAddress ?? ''}:${this.#socket.remotePort ?? 0}`);
  }

  /** `address:port` the client connected to. */
  get localAddress(): string {
    return (this.#localAddress ??= `${this.#socket.localAddress ?? ''}:${this.#socket.localPort ?? 0}`);
  }

  /**
  /**
   * Addresses and TLS peer of this connection, built when first asked for: from the accept
   * path's handshake facts (a principal only from a verified certificate), with the original
   * destination as the local address when one was recovered.
   */
  get connectionInfo(): ConnectionInfo {
    return (this.#connectionInfo ??= connectionInfoOf(this.#socket, this.peer, this.originalDestination));
  }

  /** True once the connection closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Exchanges in flight plus open streams: what a drain waits for. */
  get inflight(): number {
    return this.#inflight.size + (this.#streams === undefined ? 0 : this.#streams.size);
  }

  /** No byte read for `idle_timeout` (Aeraki: requests in flight are reset, no flush). */
  onIdleTimeout(): void {
    this.listener.stats.idle_timeout++;
    this.close();
  }

  /** A frame partly read did not complete within `frame_read_timeout` (a slow or stuck client). */
  onFrameReadTimeout(): void {
    this.listener.stats.downstream_cx_read_timeout++;
    logger.debug({ listener: this.listener.name, client: this.remoteAddress, buffered: this.#reader.length }, 'closing downstream connection: frame read timeout');
    this.close();
  }

  restartPartialClock(now: number): void {
    this.partialSince = now;
  }

  get readPaused(): boolean {
    return this.#pauseCount > 0 || this.#drain.readStopped;
  }

  get goAwayAt(): number {
    return this.#drain.goAwayAt;
  }

  /** A chunk from the client (socket 'data'). */
  onData(chunk: Buffer): void {
    // A connection that stopped taking requests (drain) reads nothing more.
    if (this.#drain.readStopped) return;
    // Envoy's network RBAC (ONE_TIME_ON_FIRST_BYTE): decided once, on the first bytes.
    if (!this.#authorized && !this.#authorize()) return;
    this.listener.stats.downstream_cx_rx_bytes_total += chunk.length;
    this.lastReadAt = coarseClock.now;
    this.#reader.push(chunk);
    this.decodeBuffered();
  }

  /**
   * Runs the listener's network RBAC filters in order; the first that denies closes the
   * connection at once, before a byte is decoded (Envoy closes with NoFlush too).
   */
  #authorize(): boolean {
    const request = { connection: this.connectionInfo, metadata: undefined };
    for (const rbac of this.listener.networkRbac ?? []) {
      if (!rbac.check(request)) {
        logger.debug({ listener: this.listener.name, client: this.remoteAddress }, 'closing downstream connection: denied by network RBAC');
        this.close();
        return false;
      }
    }
    this.#authorized = true;
    return true;
  }

  /**
   * Decodes and starts the requests read so far. A paused connection stops here and keeps
   * the rest in its reader: one chunk can hold hundreds of requests, and pausing the socket
   * alone would still start them all. Requests already read are decoded even while the
   * connection drains: a drain answers everything the client sent before it.
   */
  decodeBuffered(): void {
    this.#decodeScheduled = false;
    const reader = this.#reader;
    const codec = this.codec;
    while (!this.#closed && this.#pauseCount === 0) {
      const r = codec.decode(reader);
      if (r === undefined) {
        // The slow-client clock runs from the first byte of a frame still incomplete.
        if (reader.length === 0) this.partialSince = 0;
        else if (this.partialSince === 0) this.partialSince = coarseClock.now;
        // A draining connection whose last buffered bytes started nothing is done.
        if (this.#drain.closeWhenIdle && this.#idle()) this.#endGracefully();
        return;
      }
      this.partialSince = 0;
      if (r instanceof Error) {
        this.#onCodecError(r);
        return;
      }
      this.#onMessage(r);
    }
  }

  #onMessage(msg: Message): void {
    const stats = this.listener.stats;
    switch (msg.type) {
      case MessageType.Heartbeat: {
        stats.request_event++;
        const reply = this.codec.heartbeatReply(msg);
        if (reply !== null) this.write(reply);
        return;
      }
      case MessageType.Request:
      case MessageType.Oneway: {
        // Declared one-way methods sent as calls (Go Thrift) expect no reply: forward only.
        if (msg.type === MessageType.Request && this.listener.onewayMethods?.matches(msg) === true) msg.type = MessageType.Oneway;
        stats.request++;
        stats.request_decoding_success++;
        if (msg.type === MessageType.Oneway) stats.request_oneway++;
        else stats.request_twoway++;
        const ex = new Exchange(this, msg, this.listener.newFilterChain());
        this.#inflight.add(ex);
        stats.request_active++;
        if (this.#backlog === undefined && ReplyBacklog.over(this.#out, this.#inflight.size, this.#replyBytes, this.listener.highWatermark)) this.#pauseForBacklog();
        if (msg.decodeError !== undefined) {
          stats.request_local_error++;
          ex.sendLocalReply(ErrorType.BadRequest, msg.decodeError);
          return;
        }
        if (this.listener.overload.rejectingRequests) {
          stats.request_overload_reject++;
          ex.sendLocalReply(ErrorType.OverLimit, 'meltemi overload: heap past its watermark, request not taken');
          return;
        }
        ex.start();
        return;
      }
      case MessageType.StreamInit:
      case MessageType.StreamData:
      case MessageType.StreamCloseOneWay:
      case MessageType.StreamCloseTwoWay:
        this.#onStreamFrame(msg);
        return;
      default:
        this.#onCodecError(new Error(`unexpected message type ${MessageType[msg.type]} from a client`) as CodecError);
    }
  }

  /** Pinned streams go to this client's own upstream as they are; others to the stream table. */
  #onStreamFrame(msg: Message): void {
    const pinned = this.#pinned;
    if (pinned === undefined) {
      (this.#streams ??= new StreamTable(this)).onFrame(msg);
      return;
    }
    if (!pinned.sendStreamFrame(msg)) {
      this.#onCodecError(new Error(`stream frame (stream ${msg.streamId}) before any request pinned an upstream connection`));
    }
  }

  pinnedUpstream(cluster: Cluster, host: Host): UpstreamConnection | undefined {
    return this.#pinned?.connectionFor(cluster, host);
  }

  /** The pinned upstream connection closed: answer what is in flight, then close. */
  onPinnedUpstreamClosed(text: string): void {
    logger.info({ listener: this.listener.name, client: this.remoteAddress }, `closing downstream connection: ${text}`);
    this.drain();
  }

  #onCodecError(err: CodecError | Error): void {
    this.listener.stats.request_decoding_error++;
    logger.warn({ listener: this.listener.name, client: this.remoteAddress, code: (err as CodecError).code }, `closing downstream connection: ${err.message}`);
    this.close();
  }

  /** Puts the client's id back into a response before it goes downstream. */
  restoreId(response: Message, id: RequestId): void {
    this.codec.setRequestId(response, id);
  }

  write(frame: Buffer): void {
    if (this.#closed) return;
    this.listener.stats.downstream_cx_tx_bytes_total += frame.length;
    this.#out.write(frame);
    this.#replyBytes = frame.length;
    // A client that does not read its responses stops being read: its requests, and so the
    // responses buffered for it, stay bounded (reply-backlog.ts).
    if (this.#backlog === undefined && ReplyBacklog.over(this.#out, this.#inflight.size, this.#replyBytes, this.listener.highWatermark)) this.#pauseForBacklog();
  }

  #pauseForBacklog(): void {
    this.#backlog = new ReplyBacklog(this.#out, this.listener.highWatermark, () => this.#backlogCleared(), () => ReplyBacklog.owed(this.#inflight.size, this.#replyBytes, this.listener.highWatermark));
    this.pause();
    this.#backlog.watch();
  }

  #backlogCleared(): void {
    this.#backlog = undefined;
    this.resume();
  }

  /** The socket's buffer emptied (socket 'drain'). */
  onDrain(): void {
    this.#backlog?.watch();
  }

  upstreamFor(pool: UpstreamPool): UpstreamConnection {
    return pool.keepClientOrder ? (this.#affinity ??= new UpstreamAffinity()).connectionFor(pool) : pool.pick();
  }

  closeOnFault(where: string, err: unknown): void {
    this.listener.stats.internal_error++;
    reportFault(where, err, { listener: this.listener.name, client: this.remoteAddress });
    try {
      this.close();
    } catch (again) {
      reportFault('closing after an internal error', again, { listener: this.listener.name, client: this.remoteAddress });
    }
  }

  /** Reference-counted: several congested upstreams may pause the same client. */
  pause(): void {
    if (this.#pauseCount++ === 0) {
      this.listener.stats.downstream_pause++;
      this.#socket.pause();
    }
  }

  resume(): void {
    if (this.#pauseCount === 0) return;
    if (--this.#pauseCount === 0) {
      this.listener.stats.downstream_resume++;
      if (this.#closed) return;
      if (!this.#drain.readStopped) this.#socket.resume();
      // Requests read before the pause wait in the reader; they go next turn, not inside
      // whatever callback resumed us.
      if (this.#reader.length > 0 && !this.#decodeScheduled) {
        this.#decodeScheduled = true;
        setImmediate(decodeBuffered, this);
      }
    }
  }

  onExchangeDone(ex: object): void {
    if (ex instanceof Exchange && this.#inflight.delete(ex)) this.listener.stats.request_active--;
    this.#backlog?.watch();
    if (this.#drain.closeWhenIdle && this.#idle()) this.#endGracefully();
  }

  /** No exchange in flight and no stream open. */
  #idle(): boolean {
    // Requests held in the reader by a backpressure pause are not answered yet either.
    if (this.#pauseCount > 0 && this.#reader.length > 0) return false;
    return this.#inflight.size === 0 && (this.#streams === undefined || this.#streams.size === 0);
  }

  /**
   * Drains the connection as Envoy does: no new request is taken, every request already
   * read is answered, and the connection closes once nothing is in flight. A protocol with
   * a go-away frame (Dubbo READONLY) gets it and is read for `drain_goaway_grace` more, so
   * that requests the client sent before it saw the frame are answered too; any other stops
   * being read at once.
   */
  drain(): void {
    if (this.#closed || this.#drain.started) return;
    const goAway = this.codec.drainFrame?.() ?? null;
    if (goAway !== null) {
      this.write(goAway);
      this.#drain.goAwaySent(coarseClock.now);
      return;
    }
    this.onGoAwayGraceOver();
  }

  /** Stops reading and closes once idle (the end of a drain's go-away grace, or a drain without one). */
  onGoAwayGraceOver(): void {
    if (this.#closed) return;
    this.#drain.stopReading();
    this.#socket.pause();
    if (this.#idle()) this.#endGracefully();
  }

  #endGracefully(): void {
    if (this.#closed || !this.#drain.startEnding()) return;
    this.listener.stats.downstream_cx_drain_close++;
    const socket = this.#socket;
    // Flush what was answered (the write queue flushes in this turn's check phase, before
    // this), then end and close without waiting for the client's FIN: a paused socket
    // would never see it, and the drain waits for the close.
    setImmediate(() => {
      if (!this.#closed) socket.end(() => socket.destroy());
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#socket.destroy();
    this.onSocketClose();
  }

  /** The socket closed, or close() destroyed it: ends everything this connection carried. */
  onSocketClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.discard();
    this.#reader.clear();
    const stats = this.listener.stats;
    stats.cx_active--;
    if (this.#inflight.size > 0) {
      stats.cx_destroy_with_active_rq++;
      for (const ex of this.#inflight.toArray()) ex.abandon();
    }
    this.#streams?.closeAll();
    this.#pinned?.close();
    this.#onClosed(this);
  }
}

import type net from 'node:net';
import { ErrorType, FrameReader, MessageType } from '../../codecs/api/index.js';
import type { ClientCodec, CodecError, Message } from '../../codecs/api/index.js';
import { logger } from '../logger.js';
import { faultText, reportFault } from '../net/fault.js';
import { WriteQueue } from '../net/write-queue.js';
import { VarintIdAllocator } from './varint-ids.js';
import { openUpstreamSocket } from '../tls/upstream-tls.js';
import type { TlsContext } from '../tls/tls-runtime.js';

/** Something whose input a congested upstream connection pauses (backpressure). */
export interface FlowSource {
  pauseSource(): void;
  resumeSource(): void;
}

/**
 * A stream carried on an upstream connection (tRPC streaming, pinned bRPC STRM): the
 * upstream's stream frames with its id come back through `onUpstreamStreamFrame`.
 */
export interface UpstreamStream extends FlowSource {
  onUpstreamStreamFrame(frame: Message): void;
  /** The connection failed or closed: the stream is gone upstream. */
  onUpstreamFailure(error: ErrorType, text: string): void;
}

/** What an upstream connection needs from a request it carries. */
export interface UpstreamRequest extends FlowSource {
  readonly request: Message;
  readonly requestMutation: ReadonlyMap<string, string> | null;
  /** Called with the upstream's response (id already matched). */
  onUpstreamResponse(response: Message): void;
  /** Called when the request cannot complete on this connection. */
  onUpstreamFailure(error: ErrorType, text: string): void;
}

export interface UpstreamConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  highWatermark: number;
  /** Idle time after which the connection sends the codec's heartbeat (default 60 s). */
  heartbeatMs?: number;
  /** The local address to connect from (the cluster's upstream_bind_config). */
  sourceAddress?: string | undefined;
  codec: ClientCodec;
  /** Called once the connection is closed for good (the pool forgets it). */
  onClosed(conn: UpstreamConnection): void;
  /** Called when the peer announced it is draining. */
  onGoAway(conn: UpstreamConnection): void;
  /** Called when an exception was caught on this connection (counted by its cluster). */
  onFault?(): void;
  /** TLS to the host (the cluster's transport socket); absent: plaintext. */
  tls?: TlsContext;
}

const MAX_ID = 0x7fffffff;
/** Idle time after which an upstream connection sends a heartbeat (Dubbo's default period). */
const HEARTBEAT_IDLE_MS = 60_000;

/**
 * One TCP connection to an upstream host, shared by requests from many downstream
 * connections: each request gets a connection-unique id written into its frame; the
 * response is matched by that id and handed back.
 */
export class UpstreamConnection {
  readonly #opts: UpstreamConnectionOptions;
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader();
  readonly #out: WriteQueue;
  readonly #pending = new Map<number, UpstreamRequest>();
  /** Frames written before the connection was up. */
  #early: Buffer[] | null = [];
  #nextId = 1;
  /**
   * Length-matched id allocation for varint-id codecs (bRPC, tRPC, Thrift compact); made
   * when the codec first says so, which a detecting codec may learn only after a while.
   */
  #varintIds: VarintIdAllocator | undefined;
  readonly #inUse = (id: number): boolean => this.#pending.has(id) || this.#streams.has(id);
  #closed = false;
  goingAway = false;
  /** Open streams by their id on this connection (ids come from the request id counter). */
  readonly #streams = new Map<number, UpstreamStream>();
  /** Receives stream frames of unknown ids: set when the connection is pinned to one client. */
  #streamSink: UpstreamStream | undefined;
  /** Requests whose sources were paused because this connection's buffers are full. */
  #pausedSources = new Set<FlowSource>();
  readonly #connectTimer: NodeJS.Timeout;

  constructor(opts: UpstreamConnectionOptions) {
    this.#opts = opts;
    const opened = openUpstreamSocket(opts.host, opts.port, opts.tls, opts.sourceAddress);
    const socket = opened.socket;
    this.#socket = socket;
    this.#out = new WriteQueue(socket);
    this.#connectTimer = setTimeout(() => this.#fail(`connection failure '${this.address}' due to timeout`, ErrorType.NoHealthyUpstream), opts.connectTimeoutMs);
    if (opened.refused !== undefined) {
      const why = opened.refused;
      setImmediate(() => this.#fail(`connection failure '${this.address}': ${why}`, ErrorType.NoHealthyUpstream));
    }
    socket.once(opened.readyEvent, () => this.#onConnect());
    socket.on('data', (chunk: Buffer) => this.#onChunk(chunk));
    socket.on('drain', this.#resumeSources);
    // Java Dubbo providers close channels idle for about 3 heartbeat periods (60 s each): an
    // idle connection sends the protocol's own heartbeat, for codecs that have one.
    if (opts.codec.heartbeatRequest !== undefined) {
      socket.setTimeout(opts.heartbeatMs ?? HEARTBEAT_IDLE_MS, () => this.#guarded('heartbeat', () => this.#heartbeat()));
    }
    socket.on('error', (err) => {
      const connected = this.#early === null;
      this.#fail(
        connected ? `upstream connection '${this.address}' reset: ${err.message}` : `remote connection failure '${this.address}': ${err.message}`,
        connected ? ErrorType.UpstreamReset : ErrorType.NoHealthyUpstream,
      );
    });
    socket.on('close', () => this.#fail(`upstream connection '${this.address}' closed`, ErrorType.UpstreamReset));
  }

  get address(): string {
    return `${this.#opts.host}:${this.#opts.port}`;
  }

  /** Requests waiting for a response. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Requests written before the connection was up (circuit breaker: max_pending_requests). */
  get queuedCount(): number {
    return this.#early?.length ?? 0;
  }

  /** True while its write buffers are over the high watermark (mirrors are dropped then). */
  get congested(): boolean {
    return this.#out.pendingBytes > this.#opts.highWatermark;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `req`; for two-way requests the response comes back through `onUpstreamResponse`.
   * Returns the codec's error, having sent nothing, when the mutated request cannot be encoded.
   */
  send(req: UpstreamRequest): CodecError | undefined {
    const msg = req.request;
    const codec = this.#opts.codec;
    let id: number;
    if (this.#varintIds === undefined && codec.varintRequestIds === true) this.#varintIds = new VarintIdAllocator();
    if (this.#varintIds !== undefined) id = this.#varintIds.next(msg.requestId, this.#inUse);
    else {
      id = this.#nextId;
      this.#nextId = id === MAX_ID ? 1 : id + 1;
    }
    codec.setRequestId(msg, id);
    const frame = codec.encode(msg, req.requestMutation);
    if (frame instanceof Error) return frame;
    if (msg.type !== MessageType.Oneway) this.#pending.set(id, req);
    if (this.#early !== null) this.#early.push(frame);
    else this.#out.write(frame);
    if (this.#out.pendingBytes > this.#opts.highWatermark) this.#pauseSource(req);
    return undefined;
  }

  /**
   * Pauses `source` until this connection's unsent bytes fall to the low mark (high / 2),
   * following the bytes the socket actually flushed.
   */
  #pauseSource(source: FlowSource): void {
    if (this.#pausedSources.has(source)) return;
    this.#pausedSources.add(source);
    source.pauseSource();
    if (!this.#out.waiting) this.#out.notifyAtOrBelow(this.#opts.highWatermark >>> 1, this.#resumeSources);
  }

  /** Registers `stream` and returns its connection-unique id (never one a request holds). */
  openStream(stream: UpstreamStream): number {
    let id = this.#nextId;
    while (this.#streams.has(id) || this.#pending.has(id)) id = id === MAX_ID ? 1 : id + 1;
    this.#nextId = id === MAX_ID ? 1 : id + 1;
    this.#streams.set(id, stream);
    return id;
  }

  /** Ends stream `id` here; its late frames are dropped. */
  closeStream(id: number): void {
    if (this.#streams.delete(id) && this.goingAway && this.#pending.size === 0 && this.#streams.size === 0) this.close();
  }

  /** Streams open on this connection. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /**
   * Pins the connection to one client: stream frames of ids it does not know go to `sink`
   * as they are (bRPC STRM frames carry ids the two peers chose, not the proxy).
   */
  setStreamSink(sink: UpstreamStream): void {
    this.#streamSink = sink;
  }

  /**
   * Writes a stream frame of `source`; with `id` the frame's stream id is rewritten to it
   * first, without (pinned connections) it goes as it is.
   */
  sendStreamFrame(source: FlowSource, msg: Message, id: number | undefined, mutation: ReadonlyMap<string, string> | null): void {
    const codec = this.#opts.codec;
    if (id !== undefined) codec.setRequestId(msg, id);
    const encoded = codec.encode(msg, mutation);
    // No built-in codec fails on a stream frame; another codec's failure sends the frame unmutated.
    const frame = encoded instanceof Error ? msg.frame : encoded;
    if (this.#early !== null) this.#early.push(frame);
    else this.#out.write(frame);
    if (this.#out.pendingBytes > this.#opts.highWatermark) this.#pauseSource(source);
  }

  /** Forgets a request that timed out or whose client left; a late response is dropped. */
  forget(id: number): void {
    this.#pending.delete(id);
  }

  #heartbeat(): void {
    if (this.#closed) return;
    const id = this.#nextId;
    this.#nextId = id === MAX_ID ? 1 : id + 1;
    const frame = this.#opts.codec.heartbeatRequest?.(id) ?? null;
    if (frame !== null) this.writeRaw(frame);
  }

  /** Writes a frame of the proxy's own (heartbeats). */
  writeRaw(frame: Buffer): void {
    if (this.#early !== null) this.#early.push(frame);
    else this.#out.write(frame);
  }

  close(): void {
    this.#fail(`upstream connection '${this.address}' closed by the proxy`, ErrorType.UpstreamReset);
  }

  #onConnect(): void {
    clearTimeout(this.#connectTimer);
    const early = this.#early ?? [];
    this.#early = null;
    for (const f of early) this.#out.write(f);
  }

  /** Resumes every paused source once the unsent bytes are at the low mark (or 'drain'). */
  readonly #resumeSources = (): void => {
    if (this.#pausedSources.size === 0) return;
    if (this.#out.pendingBytes > this.#opts.highWatermark >>> 1) {
      if (!this.#out.waiting) this.#out.notifyAtOrBelow(this.#opts.highWatermark >>> 1, this.#resumeSources);
      return;
    }
    const sources = this.#pausedSources;
    this.#pausedSources = new Set();
    for (const s of sources) this.#guarded('resume', () => s.resumeSource());
  };

  /**
   * A chunk from the upstream (socket 'data'). An exception in decoding fails this
   * connection: its requests get the codec's error reply; nothing reaches the process.
   * Exceptions of one request's own handling are that request's (Exchange guards them).
   */
  #onChunk(chunk: Buffer): void {
    try {
      this.#onData(chunk);
    } catch (err) {
      this.#onFault('response handling', err);
    }
  }

  /** Runs `fn`; an exception is reported and fails this connection. */
  #guarded(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#onFault(where, err);
    }
  }

  #onFault(where: string, err: unknown): void {
    reportFault(`upstream ${where}`, err, { upstream: this.address });
    this.#opts.onFault?.();
    this.#fail(`internal error on upstream connection '${this.address}': ${faultText(err)}`, ErrorType.BadResponse);
  }

  #onData(chunk: Buffer): void {
    const reader = this.#reader;
    reader.push(chunk);
    const codec = this.#opts.codec;
    for (;;) {
      const r = codec.decode(reader);
      if (r === undefined) return;
      if (!isMessage(r)) {
        logger.warn({ upstream: this.address, code: r.code }, `bad response from upstream: ${r.message}`);
        this.#fail(`bad response from upstream '${this.address}': ${r.message}`, ErrorType.BadResponse);
        return;
      }
      this.#onMessage(r);
      if (this.#closed) return;
    }
  }

  #onMessage(msg: Message): void {
    switch (msg.type) {
      case MessageType.Response:
      case MessageType.Error: {
        const id = msg.requestId;
        const req = typeof id === 'number' ? this.#pending.get(id) : undefined;
        if (req === undefined) return; // timed out or its client left: dropped, as Java Dubbo does
        this.#pending.delete(id as number);
        req.onUpstreamResponse(msg);
        if (this.goingAway && this.#pending.size === 0 && this.#streams.size === 0) this.close();
        return;
      }
      case MessageType.Heartbeat: {
        const reply = this.#opts.codec.heartbeatReply?.(msg) ?? null;
        if (reply !== null) this.#out.write(reply);
        if (msg.goAway === true && !this.goingAway) {
          this.goingAway = true;
          this.#opts.onGoAway(this);
          if (this.#pending.size === 0 && this.#streams.size === 0) this.close();
        }
        return;
      }
      case MessageType.StreamInit:
      case MessageType.StreamData:
      case MessageType.StreamCloseOneWay:
      case MessageType.StreamCloseTwoWay: {
        const stream = this.#streams.get(msg.streamId) ?? this.#streamSink;
        if (stream !== undefined) stream.onUpstreamStreamFrame(msg);
        return; // a frame of a stream that already ended: dropped
      }
      default:
        logger.debug({ upstream: this.address, type: msg.type }, 'ignored an unexpected message from upstream');
    }
  }

  #fail(text: string, error: ErrorType): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#connectTimer);
    this.#out.discard();
    this.#socket.destroy();
    this.#reader.clear();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#early = null;
    this.#opts.onClosed(this);
    // Each request and stream is told on its own: one that throws does not keep the others waiting.
    for (const req of pending) failQuietly(req, error, `meta protocol upstream request: ${text}`);
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    if (this.#streamSink !== undefined) streams.push(this.#streamSink);
    this.#streamSink = undefined;
    for (const s of streams) failQuietly(s, error, `meta protocol upstream stream: ${text}`);
    const sources = this.#pausedSources;
    this.#pausedSources = new Set();
    for (const s of sources) {
      try {
        s.resumeSource();
      } catch (err) {
        reportFault('upstream resume', err, { upstream: this.address });
      }
    }
  }
}

function failQuietly(target: { onUpstreamFailure(error: ErrorType, text: string): void }, error: ErrorType, text: string): void {
  try {
    target.onUpstreamFailure(error, text);
  } catch (err) {
    reportFault('upstream failure handling', err);
  }
}

function isMessage(r: Message | CodecError): r is Message {
  return !(r instanceof Error);
}

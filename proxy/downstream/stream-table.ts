import { ErrorType, MessageType } from '../../codecs/api/index.js';
import type { Message } from '../../codecs/api/index.js';
import { logger } from '../logger.js';
import type { ExchangeHost } from './exchange-host.js';
import { DownstreamStream } from './stream-exchange.js';
import type { StreamOwner } from './stream-exchange.js';

/** Idle-stream timeout when the config sets none (`stream_idle_timeout`). */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;

/**
 * The streams of one client connection, by the client's stream id. Many streams share the
 * connection (and unary requests run beside them). One coarse timer per table, running only
 * while streams are open, finds idle streams: a frame only sets a flag, so the data path
 * pays no timer work per frame.
 */
export class StreamTable implements StreamOwner {
  readonly host: ExchangeHost;
  readonly #streams = new Map<number, DownstreamStream>();
  readonly #idleMs: number;
  #sweep: NodeJS.Timeout | undefined;

  constructor(host: ExchangeHost) {
    this.host = host;
    this.#idleMs = host.listener.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** A stream frame from the client: INIT opens a stream, the others go to theirs. */
  onFrame(msg: Message): void {
    const stream = this.#streams.get(msg.streamId);
    if (msg.type === MessageType.StreamInit) {
      if (stream !== undefined) {
        this.#refuse(msg, `meta protocol stream: stream ${msg.streamId} is already open`);
        return;
      }
      this.#open(msg);
      return;
    }
    if (stream !== undefined) {
      stream.fromClient(msg);
      return;
    }
    // A frame for a stream that ended (or never was): a late DATA gets a RESET so the client
    // stops; a late CLOSE or RESET needs no answer.
    if (msg.type === MessageType.StreamData) this.#refuse(msg, `meta protocol stream: no open stream ${msg.streamId}`);
  }

  #open(init: Message): void {
    const listener = this.host.listener;
    const stream = new DownstreamStream(this, init, listener.newFilterChain());
    this.#streams.set(stream.clientStreamId, stream);
    listener.stats.stream_total++;
    listener.stats.stream_active++;
    // stream_idle_timeout: 0s disables the idle reset, as in Envoy.
    if (this.#sweep === undefined && this.#idleMs > 0) this.#startSweep();
    if (init.decodeError !== undefined) {
      stream.sendLocalReply(ErrorType.BadRequest, init.decodeError);
      return;
    }
    stream.start();
  }

  #refuse(msg: Message, text: string): void {
    logger.debug({ listener: this.host.listener.name, client: this.host.remoteAddress, stream: msg.streamId }, text);
    this.host.write(this.host.codec.errorReply(msg, ErrorType.Unspecified, text));
  }

  onStreamEnd(stream: DownstreamStream): void {
    if (this.#streams.get(stream.clientStreamId) !== stream) return;
    this.#streams.delete(stream.clientStreamId);
    this.host.listener.stats.stream_active--;
    if (this.#streams.size === 0) this.#stopSweep();
    // A draining connection closes once its last exchange or stream ends.
    this.host.onExchangeDone(stream);
  }

  /** The client connection closed: every stream's upstream side is reset. */
  closeAll(): void {
    for (const s of [...this.#streams.values()]) s.abandon();
    this.#stopSweep();
  }

  #startSweep(): void {
    // A stream is reset between idleMs and idleMs + period after its last frame.
    const period = Math.max(5, Math.min(1000, Math.floor(this.#idleMs / 4)));
    const sweep = setInterval(() => this.#onSweep(), period);
    sweep.unref();
    this.#sweep = sweep;
    const now = performance.now();
    for (const s of this.#streams.values()) s.idleSince = now;
  }

  #stopSweep(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #onSweep(): void {
    const now = performance.now();
    const idleMs = this.#idleMs;
    for (const s of [...this.#streams.values()]) {
      if (s.active) {
        s.active = false;
        s.idleSince = now;
      } else if (now - s.idleSince >= idleMs) {
        try {
          s.expire(idleMs);
        } catch (err) {
          s.onFault('stream idle timeout', err);
        }
      }
    }
  }
}

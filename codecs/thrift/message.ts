import { MessageType, ResponseStatus, type Message, type Metadata } from '../api/index.js';
import type { ThriftMessageType } from './constants.js';
import { splitName, type ThriftProtocol } from './message-header.js';
import { newScanState } from './scan.js';
import { readInfoHeaders, type THeaderLayout } from './theader.js';
import type { ThriftTransport } from './transport-detect.js';

/**
 * Where things sit in one decoded frame: what setRequestId, encode and errorReply need so
 * that none of them parses the frame again.
 */
export interface ThriftFrameLayout {
  transport: ThriftTransport;
  /** The protocol of this frame's message (per frame under THeader). */
  protocol: ThriftProtocol;
  /** The full message name (`Service:method` when multiplexed); '' for an empty THeader frame. */
  name: string;
  /** 0 for a THeader frame without payload. */
  messageType: ThriftMessageType | 0;
  /** Offset of the message header in the plain payload (see `plain`). */
  messageStart: number;
  /** Offset of the seqid in the plain payload. */
  seqidOffset: number;
  /** Encoded length of the seqid (4 binary, 1..5 compact varint). */
  seqidLength: number;
  /** Offset of the args/result struct in the plain payload. */
  bodyStart: number;
  /** THeader fields, null for framed and unframed. */
  header: THeaderLayout | null;
  /**
   * The untransformed payload when the THeader payload went through zlib; null when the
   * message bytes sit in the frame itself (offsets above are then frame offsets).
   */
  plain: Buffer | null;
}

/** MessageType of a Thrift message type (and Heartbeat for a THeader frame with no payload). */
export function messageTypeOf(t: ThriftMessageType | 0): MessageType {
  switch (t) {
    case 1:
      return MessageType.Request;
    case 2:
      return MessageType.Response;
    case 3:
      return MessageType.Error;
    case 4:
      return MessageType.Oneway;
    default:
      return MessageType.Heartbeat;
  }
}

/**
 * The routable attributes of a Thrift message: `method`, `service` (multiplexed names only)
 * and the THeader info headers, lower-cased. Info headers are parsed on first use only, so
 * listeners that route on the method never pay for them.
 */
class ThriftMetadata implements Metadata {
  readonly #message: ThriftMessage;
  #method: string | undefined;
  #service: string | undefined;
  #headers: Map<string, string> | undefined;

  constructor(message: ThriftMessage) {
    this.#message = message;
  }

  get(key: string): string | undefined {
    if (key === 'method' || key === 'service') {
      this.#split();
      const v = key === 'method' ? this.#method : this.#service;
      if (v !== undefined) return v;
    }
    return this.#infoHeaders().get(key);
  }

  *entries(): Iterable<[string, string]> {
    this.#split();
    if (this.#method !== undefined) yield ['method', this.#method];
    if (this.#service !== undefined) yield ['service', this.#service];
    for (const [k, v] of this.#infoHeaders()) {
      if ((k === 'method' && this.#method !== undefined) || (k === 'service' && this.#service !== undefined)) continue;
      yield [k, v];
    }
  }

  /** Forgets parsed info headers (the frame was rebuilt with new ones). */
  invalidate(): void {
    this.#headers = undefined;
  }

  #split(): void {
    if (this.#method !== undefined) return;
    const layout = this.#message.layout;
    if (layout.messageType === 0) return;
    const { service, method } = splitName(layout.name);
    this.#method = method;
    this.#service = service;
  }

  #infoHeaders(): Map<string, string> {
    if (this.#headers !== undefined) return this.#headers;
    const headers = new Map<string, string>();
    const h = this.#message.layout.header;
    if (h !== null) {
      for (const [k, v] of readInfoHeaders(this.#message.frame, h, newScanState()).headers) {
        headers.set(k.toLowerCase(), v);
      }
    }
    this.#headers = headers;
    return headers;
  }
}

/**
 * The upstream key of each transport and protocol, made once: requests with equal keys share
 * upstream connections, and the pool lookup per request then meets the same string.
 */
const UPSTREAM_KEYS: Record<ThriftTransport, Record<ThriftProtocol, string>> = {
  framed: { binary: 'framed/binary', compact: 'framed/compact' },
  unframed: { binary: 'unframed/binary', compact: 'unframed/compact' },
  header: { binary: 'header/binary', compact: 'header/compact' },
};

/** A decoded Thrift frame. */
export class ThriftMessage implements Message {
  type: MessageType;
  requestId: number;
  streamId = 0;
  frame: Buffer;
  headerSize: number;
  bodySize: number;
  status: ResponseStatus;
  upstreamKey: string;
  metadata: Metadata;
  /** Codec-internal: where the fields of `frame` sit. Kept current by the codec's edits. */
  readonly layout: ThriftFrameLayout;
  readonly #metadata: ThriftMetadata;

  constructor(frame: Buffer, layout: ThriftFrameLayout, requestId: number) {
    this.frame = frame;
    this.layout = layout;
    this.requestId = requestId;
    this.type = messageTypeOf(layout.messageType);
    this.status = this.type === MessageType.Error ? ResponseStatus.Error : ResponseStatus.Ok;
    this.upstreamKey = UPSTREAM_KEYS[layout.transport][layout.protocol];
    this.headerSize = 0;
    this.bodySize = 0;
    this.updateSizes();
    this.#metadata = new ThriftMetadata(this);
    this.metadata = this.#metadata;
  }

  /** The method name, with its service prefix when the client multiplexes. */
  get operationName(): string {
    return this.layout.name;
  }

  /**
   * Recomputes header/body sizes (wire bytes, for stats) after the frame changed: the header
   * is everything before the args/result struct; for a zlib payload, everything before it.
   */
  updateSizes(): void {
    const l = this.layout;
    let headerSize: number;
    if (l.messageType === 0) headerSize = this.frame.length;
    else if (l.plain !== null && l.header !== null) headerSize = l.header.payloadStart;
    else headerSize = l.bodyStart;
    this.headerSize = headerSize;
    this.bodySize = this.frame.length - headerSize;
  }

  /** Drops cached info headers after the THeader was rebuilt. */
  invalidateHeaders(): void {
    this.#metadata.invalidate();
  }
}

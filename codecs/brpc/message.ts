/**
 * The Message a bRPC codec returns. Metadata is lazy: the frame is scanned once at decode
 * time for the id and sizes, and strings (service, method, user_fields) are decoded only
 * when a route, filter or log line reads them.
 */
import { MessageType, ResponseStatus } from '../api/index.js';
import type { Message, Metadata, RequestId } from '../api/index.js';
import { readRequestNames, readUserFields } from './rpc-meta.js';

/** Lazily decoded metadata of one RpcMeta. */
export class BrpcMetadata implements Metadata {
  readonly #meta: Buffer;
  readonly #requestStart: number;
  readonly #requestEnd: number;
  #service: string | undefined;
  #method: string | undefined;
  #all: Map<string, string> | undefined;

  /**
   * @param meta the RpcMeta bytes (a view of the frame; kept, not copied)
   * @param requestStart value range of RpcMeta.request inside `meta`, or -1
   */
  constructor(meta: Buffer, requestStart: number, requestEnd: number) {
    this.#meta = meta;
    this.#requestStart = requestStart;
    this.#requestEnd = requestEnd;
  }

  get(key: string): string | undefined {
    // service and method are the keys nearly every route reads; they need no map.
    if (key === 'service' || key === 'method') {
      this.#readNames();
      return key === 'service' ? this.#service : this.#method;
    }
    return this.#map().get(key);
  }

  entries(): Iterable<[string, string]> {
    return this.#map().entries();
  }

  /** `service/method`, the span and log name. */
  operationName(): string {
    this.#readNames();
    return this.#service === undefined ? '' : `${this.#service}/${this.#method ?? ''}`;
  }

  #readNames(): void {
    if (this.#service !== undefined || this.#requestStart < 0) return;
    const names = readRequestNames(this.#meta, this.#requestStart, this.#requestEnd);
    this.#service = names.service;
    this.#method = names.method;
  }

  #map(): Map<string, string> {
    if (this.#all !== undefined) return this.#all;
    const all = new Map<string, string>();
    // user_fields first, so that the header's own service/method win over a same-named entry.
    readUserFields(this.#meta, 0, this.#meta.length, all);
    this.#readNames();
    if (this.#service !== undefined) {
      all.set('service', this.#service);
      all.set('method', this.#method ?? '');
    }
    this.#all = all;
    return all;
  }
}

/** A decoded bRPC frame (RPC or, when streams are pinned, STRM). */
export class BrpcMessage implements Message {
  type: MessageType;
  requestId: RequestId;
  streamId = 0;
  frame: Buffer;
  headerSize: number;
  bodySize: number;
  status = ResponseStatus.Ok;
  metadata: BrpcMetadata;
  upstreamKey = '';
  /**
   * Codec-internal: where RpcMeta.correlation_id's varint sits in `idFrame`, so that an id
   * of the same encoded length is written there without walking the meta again. Valid only
   * while `frame === idFrame`.
   */
  idFrame: Buffer | null = null;
  idStart = -1;
  idEnd = -1;

  constructor(type: MessageType, requestId: RequestId, frame: Buffer, headerSize: number, metadata: BrpcMetadata) {
    this.type = type;
    this.requestId = requestId;
    this.frame = frame;
    this.headerSize = headerSize;
    this.bodySize = frame.length - headerSize;
    this.metadata = metadata;
  }

  get operationName(): string {
    return this.metadata.operationName();
  }
}

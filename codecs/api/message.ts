/**
 * The protocol-neutral view of one decoded frame. Numbers of the enums are Aeraki's
 * (spec/metaprotocol.md §2.1) because they show up in access logs and metrics.
 */
export enum MessageType {
  Request = 0,
  Response = 1,
  Oneway = 2,
  StreamInit = 3,
  StreamData = 4,
  StreamCloseOneWay = 5,
  StreamCloseTwoWay = 6,
  Heartbeat = 7,
  Error = 8,
}

export enum ResponseStatus {
  Ok = 0,
  Error = 1,
}

/**
 * A request id as the codec reads it. Codecs return a `number` whenever the id is a safe
 * integer (ids the proxy assigns upstream always are) and a `bigint` otherwise, so equal ids
 * are always equal values (usable as Map keys).
 */
export type RequestId = number | bigint;

/** Read access to the routable attributes of a message, keys lower-cased. */
export interface Metadata {
  /** The value of `key` (lower-case), or undefined when the message does not carry it. */
  get(key: string): string | undefined;
  /** Every attribute the message carries; may run the codec's deep parse. */
  entries(): Iterable<[string, string]>;
}

/** Key/value pairs to add or overwrite in a frame's header (attachments, THeader, ...). */
export type Mutation = ReadonlyMap<string, string>;

export interface Message {
  type: MessageType;
  requestId: RequestId;
  /** Stream id for streaming protocols, 0 otherwise. */
  streamId: number;
  /** The complete original frame; forwarded untouched unless mutated or re-id'ed. */
  frame: Buffer;
  headerSize: number;
  bodySize: number;
  /** Set on responses. */
  status: ResponseStatus;
  /** Span / log name, e.g. `<interface>/<method>`. Computed lazily by codecs that can. */
  readonly operationName: string;
  metadata: Metadata;
  /**
   * Upstream connections are shared only between messages with the same key: a codec
   * whose framing varies per connection (Thrift framed vs unframed) sets it so that each
   * variant gets its own upstream connections. Empty for most protocols.
   */
  upstreamKey: string;
  /**
   * Set when the frame was delimited correctly but its content is not valid (a request
   * body that does not parse). The proxy answers such a request with a BadRequest error
   * reply and keeps the connection.
   */
  decodeError?: string;
  /**
   * Set on an upstream event that announces the peer is draining (Dubbo's read-only
   * event): the proxy sends no new requests on that connection.
   */
  goAway?: boolean;
}

/** Metadata of a message that carries none. */
export const EMPTY_METADATA: Metadata = Object.freeze({
  get: (): undefined => undefined,
  entries: (): Iterable<[string, string]> => [],
});

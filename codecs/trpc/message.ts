/** The Message a tRPC codec returns, with metadata decoded on first use. */
import { MessageType, ResponseStatus } from '../api/index.js';
import type { Message, Metadata, RequestId } from '../api/index.js';
import { readHeaderStrings } from './protocol.js';
import type { HeaderLayout } from './protocol.js';

/** Lazily decoded routable strings of one protobuf header (or stream init request_meta). */
export class TrpcMetadata implements Metadata {
  readonly #buf: Buffer;
  readonly #start: number;
  readonly #end: number;
  readonly #layout: HeaderLayout;
  #map: Map<string, string> | undefined;

  /** `buf[start, end)` holds the header; it is kept (a view of the frame), not copied. */
  constructor(buf: Buffer, start: number, end: number, layout: HeaderLayout) {
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
    this.#layout = layout;
  }

  get(key: string): string | undefined {
    return this.#strings().get(key);
  }

  entries(): Iterable<[string, string]> {
    return this.#strings().entries();
  }

  #strings(): Map<string, string> {
    // The frame was validated at decode time, so a parse failure here cannot happen for
    // the header range; the map is built once per message.
    this.#map ??= readHeaderStrings(this.#buf, this.#start, this.#end, this.#layout);
    return this.#map;
  }
}

/** A decoded tRPC frame. */
export class TrpcMessage implements Message {
  type: MessageType;
  requestId: RequestId;
  streamId: number;
  frame: Buffer;
  headerSize: number;
  bodySize: number;
  status = ResponseStatus.Ok;
  metadata: Metadata;
  upstreamKey = '';
  /**
   * Codec-internal: where the protobuf request_id varint sits in `idFrame`, so that an id of
   * the same encoded length is written there without walking the header again. Valid only
   * while `frame === idFrame`.
   */
  idFrame: Buffer | null = null;
  idStart = -1;
  idEnd = -1;
  /** Set when an id rewrite could not be applied: encode then returns this as a CodecError. */
  unencodable: string | undefined = undefined;
  /** The fixed-header version byte and u32 @10 as the sender wrote them (before any rewrite). */
  clientVersion: number;
  clientField10: number;

  constructor(type: MessageType, requestId: number, streamId: number, frame: Buffer, headerSize: number, metadata: Metadata) {
    this.type = type;
    this.requestId = requestId;
    this.streamId = streamId;
    this.frame = frame;
    this.headerSize = headerSize;
    this.bodySize = frame.length - headerSize;
    this.metadata = metadata;
    this.clientVersion = frame[14]!;
    this.clientField10 = frame.readUInt32BE(10);
  }

  /** The func (`/pkg.Service/Method`), which already names service and method. */
  get operationName(): string {
    return this.metadata.get('func') ?? '';
  }
}

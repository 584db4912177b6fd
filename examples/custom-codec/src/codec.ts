/**
 * The Tern codec: both halves of a connection in one class, written only against
 * `meltemi/codec`. Frames are cut by the API's FixedHeaderFramer; the header section is
 * read once per frame into the message's metadata; ids are patched in place.
 */
import { CodecError, ErrorType, FixedHeaderFramer, MessageType, ResponseStatus } from 'meltemi/codec';
import type { ClientCodec, CodecContext, DecodeResult, FrameReader, Message, Metadata, Mutation, RequestId, ServerCodec } from 'meltemi/codec';
import { FIXED_SIZE, Flag, MAGIC, Offset, VERSION, assembleFrame, encodeHeaderSection, readHeaderSection } from './protocol.js';

/** Which side of the proxy a codec instance decodes for. */
export type TernSide = 'server' | 'client';

/** Service, method and headers of a frame, lower-cased keys, as routes and filters see them. */
class TernMetadata implements Metadata {
  readonly service: string;
  readonly method: string;
  readonly headers: ReadonlyMap<string, string>;

  constructor(service: string, method: string, headers: ReadonlyMap<string, string>) {
    this.service = service;
    this.method = method;
    this.headers = headers;
  }

  get(key: string): string | undefined {
    if (key === 'service') return this.service;
    if (key === 'method') return this.method;
    return this.headers.get(key);
  }

  *entries(): Iterable<[string, string]> {
    yield ['service', this.service];
    yield ['method', this.method];
    yield* this.headers;
  }
}

const NO_HEADERS: ReadonlyMap<string, string> = new Map();
const EMPTY_METADATA = new TernMetadata('', '', NO_HEADERS);

/** A decoded Tern frame. */
class TernMessage implements Message {
  type: MessageType;
  requestId: RequestId;
  streamId = 0;
  frame: Buffer;
  headerSize: number;
  bodySize: number;
  status: ResponseStatus;
  metadata: TernMetadata;
  upstreamKey = '';
  decodeError?: string;

  constructor(type: MessageType, frame: Buffer, headerEnd: number, metadata: TernMetadata) {
    this.type = type;
    this.requestId = frame.readUInt32BE(Offset.RequestId);
    this.frame = frame;
    this.headerSize = headerEnd;
    this.bodySize = frame.length - headerEnd;
    this.status = (frame[Offset.Flags]! & Flag.Error) !== 0 ? ResponseStatus.Error : ResponseStatus.Ok;
    this.metadata = metadata;
  }

  get operationName(): string {
    return `${this.metadata.service}/${this.metadata.method}`;
  }
}

export class TernCodec implements ServerCodec, ClientCodec {
  readonly #side: TernSide;
  readonly #framer: FixedHeaderFramer;

  constructor(ctx: CodecContext, side: TernSide) {
    this.#side = side;
    this.#framer = new FixedHeaderFramer({ magic: MAGIC, headerSize: FIXED_SIZE, lengthOffset: Offset.FrameLength, lengthSize: 4, lengthCounts: 'frame' }, ctx.maxFrameSize);
  }

  decode(reader: FrameReader): DecodeResult {
    const frame = this.#framer.next(reader);
    if (frame === undefined || frame instanceof CodecError) return frame;
    if (frame[2] !== VERSION) return new CodecError(`tern: unsupported version ${frame[2]}`, 'MELTEMI_ERR_UNSUPPORTED');
    const flags = frame[Offset.Flags]!;
    const headerEnd = FIXED_SIZE + frame.readUInt16BE(Offset.HeaderLength);
    if (headerEnd > frame.length) return new CodecError(`tern: header length runs past the ${frame.length}-byte frame`);
    const isResponse = (flags & Flag.Response) !== 0;
    let type: MessageType;
    if ((flags & Flag.Heartbeat) !== 0) type = MessageType.Heartbeat;
    else if (this.#side === 'server') {
      if (isResponse) return new CodecError('tern: a client sent a response frame');
      type = (flags & Flag.Oneway) !== 0 ? MessageType.Oneway : MessageType.Request;
    } else {
      if (!isResponse) return new CodecError('tern: a server sent a request frame');
      type = MessageType.Response;
    }
    let metadata = EMPTY_METADATA;
    const ok = readHeaderSection(frame, FIXED_SIZE, headerEnd, (service, method, pairs) => {
      metadata = new TernMetadata(service, method, pairs.length === 0 ? NO_HEADERS : new Map(pairs.map(([k, v]) => [k.toLowerCase(), v])));
    });
    const msg = new TernMessage(type, frame, headerEnd, metadata);
    if (!ok) {
      // The frame's bounds are sound, so only this request fails; the connection stays.
      if (this.#side === 'server') msg.decodeError = 'tern: malformed header section';
      else return new CodecError('tern: malformed header section in a response');
    }
    return msg;
  }

  /** Tern ids are uint32 at a fixed offset: patched in place, the frame never changes size. */
  setRequestId(message: Message, id: RequestId): void {
    const n = Number(id);
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`tern: id ${id} is not a uint32`);
    message.frame.writeUInt32BE(n, Offset.RequestId);
    message.requestId = n;
  }

  /** Forwards the original bytes; a mutation rebuilds the header section with the new headers. */
  encode(message: Message, mutation: Mutation | null): Buffer {
    if (mutation === null || mutation.size === 0) return message.frame;
    const md = message.metadata as TernMetadata;
    const headers = new Map(md.headers);
    for (const [k, v] of mutation) headers.set(k.toLowerCase(), v);
    const frame = message.frame;
    const rebuilt = assembleFrame(frame[Offset.Flags]!, frame.readUInt32BE(Offset.RequestId), encodeHeaderSection(md.service, md.method, headers), frame.subarray(message.headerSize));
    return rebuilt;
  }

  errorReply(request: Message, error: ErrorType, text: string): Buffer {
    const md = request.metadata as TernMetadata;
    const header = encodeHeaderSection(md.service, md.method, [['error-type', ErrorType[error] ?? String(error)]]);
    return assembleFrame(Flag.Response | Flag.Error, Number(request.requestId), header, Buffer.from(text, 'utf8'));
  }

  heartbeatReply(request: Message): Buffer {
    return assembleFrame(Flag.Response | Flag.Heartbeat, Number(request.requestId), encodeHeaderSection('', '', []), Buffer.alloc(0));
  }

  heartbeatRequest(id: RequestId): Buffer {
    return assembleFrame(Flag.Heartbeat, Number(id), encodeHeaderSection('', '', []), Buffer.alloc(0));
  }
}

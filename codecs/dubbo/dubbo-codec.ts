import { CodecError, ErrorType, MessageType, ResponseStatus } from '../api/index.js';
import type { ClientCodec, CodecContext, DecodeResult, FrameReader, Message, Mutation, RequestId, ServerCodec } from '../api/index.js';
import { Attachments } from './attachments.js';
import {
  FLAG_EVENT,
  FLAG_REQUEST,
  FLAG_TWOWAY,
  HEADER_SIZE,
  HESSIAN_NULL,
  MAGIC,
  SERIALIZATION_HESSIAN2,
  SERIALIZATION_MASK,
  Status,
  readRequestId,
  writeHeader,
  writeRequestId,
} from './frame.js';
import { Hessian2Reader } from './hessian2-reader.js';
import { encodeHessianString } from './hessian2-writer.js';
import { DubboMessage } from './message.js';
import { RequestBody } from './request-body.js';

/** Dubbo status byte for each error type (spec/wire-formats.md §1.6; Aeraki uses 60 for no route). */
const STATUS_FOR_ERROR: Record<ErrorType, number> = {
  [ErrorType.RouteNotFound]: Status.SERVICE_NOT_FOUND,
  [ErrorType.ClusterNotFound]: Status.SERVICE_NOT_FOUND,
  [ErrorType.NoHealthyUpstream]: Status.SERVER_ERROR,
  [ErrorType.BadResponse]: Status.BAD_RESPONSE,
  [ErrorType.Unspecified]: Status.SERVER_ERROR,
  [ErrorType.OverLimit]: Status.SERVER_THREADPOOL_EXHAUSTED_ERROR,
  [ErrorType.Timeout]: Status.SERVER_TIMEOUT,
  [ErrorType.BadRequest]: Status.BAD_REQUEST,
  [ErrorType.Unauthorized]: Status.SERVICE_ERROR,
  [ErrorType.UpstreamReset]: Status.SERVER_ERROR,
};

/** The data of Dubbo's read-only event (Constants.READONLY_EVENT). */
const READONLY_EVENT = 'R';

/** Result flags of an OK response that carry an exception (0 and 3). */
const RESULT_WITH_EXCEPTION = 0x90;
const RESULT_WITH_EXCEPTION_AND_ATTACHMENTS = 0x93;

/**
 * The Dubbo2 codec. One instance per connection and direction; it holds no partial state
 * because a frame is delimited from its fixed header alone.
 */
export class DubboCodec implements ServerCodec, ClientCodec {
  readonly #maxFrameSize: number;
  /**
   * Whether this connection's client reads response attachments: Dubbo sends result flags
   * 3-5 only to requests whose dubbo version is 2.0.2 to 2.0.99
   * (Version.isSupportResponseAttachment); taken from the requests this codec decoded.
   */
  #clientReadsResponseAttachments = false;

  constructor(ctx: CodecContext) {
    this.#maxFrameSize = ctx.maxFrameSize;
  }

  decode(reader: FrameReader): DecodeResult {
    try {
      return this.#decode(reader);
    } catch (err) {
      // Body readers turn malformed input into decodeError; reaching here is a bug, and it
      // closes this one connection instead of escaping to the process.
      return new CodecError(`dubbo: internal decode failure: ${(err as Error).message}`, 'MELTEMI_ERR_CODEC');
    }
  }

  #decode(reader: FrameReader): DecodeResult {
    if (reader.length < HEADER_SIZE) {
      // Reject garbage as soon as two bytes show it is not Dubbo.
      if (reader.length >= 2 && reader.uint16BE(0) !== MAGIC) return badMagic(reader);
      return undefined;
    }
    if (reader.uint16BE(0) !== MAGIC) return badMagic(reader);
    const bodyLength = reader.uint32BE(12);
    if (bodyLength > this.#maxFrameSize - HEADER_SIZE) {
      return new CodecError(
        `dubbo frame of ${bodyLength + HEADER_SIZE} bytes exceeds the limit of ${this.#maxFrameSize}`,
        'MELTEMI_ERR_FRAME_TOO_LARGE',
      );
    }
    if (reader.length < HEADER_SIZE + bodyLength) return undefined;
    const msg = toMessage(reader.take(HEADER_SIZE + bodyLength));
    if (msg.body !== undefined) this.#clientReadsResponseAttachments = msg.body.readsResponseAttachments;
    return msg;
  }

  setRequestId(message: Message, id: RequestId): void {
    writeRequestId(message.frame, id);
    message.requestId = id;
  }

  encode(message: Message, mutation: Mutation | null): Buffer {
    if (mutation === null || mutation.size === 0) return message.frame;
    if (!(message instanceof DubboMessage)) return message.frame;
    if (message.body !== undefined) return mutateRequest(message, message.body, mutation);
    if (message.type === MessageType.Response || message.type === MessageType.Error) {
      return mutateResponse(message, mutation, this.#clientReadsResponseAttachments);
    }
    return message.frame;
  }

  errorReply(request: Message, error: ErrorType, text: string): Buffer {
    const body = encodeHessianString(text);
    const serialization = request.frame[2]! & SERIALIZATION_MASK;
    const head = writeHeader(serialization, STATUS_FOR_ERROR[error] ?? Status.SERVER_ERROR, request.requestId, body.length);
    return Buffer.concat([head, body]);
  }

  heartbeatReply(request: Message): Buffer | null {
    const flag = request.frame[2]!;
    // Only a two-way event request expects an answer; responses and one-way events get none.
    if ((flag & FLAG_REQUEST) === 0 || (flag & FLAG_TWOWAY) === 0) return null;
    const out = writeHeader((flag & SERIALIZATION_MASK) | FLAG_EVENT, Status.OK, request.requestId, 1);
    return Buffer.concat([out, Buffer.from([HESSIAN_NULL])]);
  }

  /**
   * The READONLY event (spec/wire-formats.md §1: flag 0xA2, one-way, body the hessian
   * string "R"), as HeaderExchangeServer.sendChannelReadOnlyEvent sends it at shutdown:
   * a Dubbo consumer then marks the channel read-only and calls other providers.
   */
  drainFrame(): Buffer {
    const body = encodeHessianString(READONLY_EVENT);
    return Buffer.concat([writeHeader(FLAG_REQUEST | FLAG_EVENT | SERIALIZATION_HESSIAN2, 0, 0, body.length), body]);
  }

  heartbeatRequest(id: RequestId): Buffer {
    const head = writeHeader(FLAG_REQUEST | FLAG_TWOWAY | FLAG_EVENT | SERIALIZATION_HESSIAN2, 0, id, 1);
    return Buffer.concat([head, Buffer.from([HESSIAN_NULL])]);
  }
}

function badMagic(reader: FrameReader): CodecError {
  return new CodecError(
    `not a dubbo frame: magic 0x${reader.uint16BE(0).toString(16).padStart(4, '0')} instead of 0xdabb`,
    'MELTEMI_ERR_BAD_MAGIC',
  );
}

function toMessage(frame: Buffer): DubboMessage {
  const flag = frame[2]!;
  const id = readRequestId(frame);
  if ((flag & FLAG_REQUEST) !== 0) {
    if ((flag & FLAG_EVENT) !== 0) {
      const msg = new DubboMessage(MessageType.Heartbeat, id, frame, ResponseStatus.Ok, undefined);
      // A one-way event with a body other than null is the provider's read-only notice.
      if ((flag & FLAG_TWOWAY) === 0 && !(frame.length === HEADER_SIZE + 1 && frame[HEADER_SIZE] === HESSIAN_NULL)) msg.goAway = true;
      return msg;
    }
    const type = (flag & FLAG_TWOWAY) !== 0 ? MessageType.Request : MessageType.Oneway;
    if ((flag & SERIALIZATION_MASK) !== SERIALIZATION_HESSIAN2) {
      // Other serializations (fastjson2, protobuf...) pass through without routing keys.
      return new DubboMessage(type, id, frame, ResponseStatus.Ok, undefined);
    }
    let body: RequestBody | undefined;
    let error: string | undefined;
    try {
      body = new RequestBody(frame);
    } catch (err) {
      error = `undecodable dubbo request body: ${(err as Error).message}`;
    }
    const msg = new DubboMessage(type, id, frame, ResponseStatus.Ok, body);
    if (error !== undefined) msg.decodeError = error;
    return msg;
  }
  if ((flag & FLAG_EVENT) !== 0) return new DubboMessage(MessageType.Heartbeat, id, frame, ResponseStatus.Ok, undefined);
  const status = frame[3]!;
  if (status !== Status.OK) return new DubboMessage(MessageType.Error, id, frame, ResponseStatus.Error, undefined);
  const resultFlag = frame[HEADER_SIZE];
  const isException = resultFlag === RESULT_WITH_EXCEPTION || resultFlag === RESULT_WITH_EXCEPTION_AND_ATTACHMENTS;
  return new DubboMessage(isException ? MessageType.Error : MessageType.Response, id, frame, ResponseStatus.Ok, undefined);
}

function rebuild(message: DubboMessage, keepUpTo: number, map: Buffer): Buffer {
  const head = message.frame.subarray(0, keepUpTo);
  const out = Buffer.concat([head, map]);
  out.writeUInt32BE(out.length - HEADER_SIZE, 12);
  return out;
}

function mutateRequest(message: DubboMessage, body: RequestBody, mutation: Mutation): Buffer {
  const offset = body.attachmentsOffset;
  if (offset < 0) return message.frame;
  return rebuild(message, offset, body.attachments.encodeWith(mutation));
}

/**
 * Response attachments ride with result flags 3-5. A response with flag 0-2 gets the
 * matching "with attachments" flag and a map when the client reads them (Aeraki never applies
 * response mutations at all); for older clients the bytes stay as they are.
 */
function mutateResponse(message: DubboMessage, mutation: Mutation, clientReadsAttachments: boolean): Buffer {
  if (message.frame[3] !== Status.OK) return message.frame;
  try {
    const r = new Hessian2Reader(message.frame, HEADER_SIZE);
    const flag = r.readInt();
    if (flag >= 0 && flag <= 2) {
      if (!clientReadsAttachments || message.frame[HEADER_SIZE] !== 0x90 + flag) return message.frame;
      const out = rebuild(message, message.frame.length, new Attachments().encodeWith(mutation));
      out[HEADER_SIZE] = 0x90 + flag + 3;
      return out;
    }
    if (flag < 3 || flag > 5) return message.frame;
    if (flag !== 5) r.skipValue();
    const offset = r.pos;
    return rebuild(message, offset, Attachments.parse(r).encodeWith(mutation));
  } catch {
    return message.frame;
  }
}

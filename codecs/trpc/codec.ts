/**
 * The tRPC codec (spec/wire-formats.md §4, spec/metaprotocol.md §4.4). The server half
 * decodes RequestProtocol headers, the client half ResponseProtocol headers (a unary frame
 * does not say which it holds); stream frames decode the same way on both halves.
 */
import {
  CodecError,
  EMPTY_METADATA,
  MessageType,
  ProtobufWireError,
  ResponseStatus,
  encodeLengthDelimitedField,
  overwriteVarint,
  patchVarintField,
  replaceField,
  setVarintField,
  upsertMapEntries,
} from '../api/index.js';
import type {
  ClientCodec,
  CodecContext,
  DecodeResult,
  ErrorType,
  FrameReader,
  Message,
  Metadata,
  Mutation,
  RequestId,
  ServerCodec,
} from '../api/index.js';
import {
  CallType,
  CloseType,
  DataFrameType,
  HEADER_SIZE,
  InitMetaField,
  InitRequestMetaField,
  MAGIC,
  Offset,
  RequestField,
  ResponseField,
  StreamFrameType,
} from './constants.js';
import { ClientFieldMemory, echoesId } from './client-fields.js';
import { buildInitError, buildStreamReset, buildUnaryError, replyStreamField, trpcRetCode } from './error-reply.js';
import { MAX_PB_HEADER, pbHeaderSizeOf, replacePbHeader, replaceStreamMeta } from './frame.js';
import { TrpcMessage, TrpcMetadata } from './message.js';
import { newRequestScan, newResponseScan, scanClose, scanInit, scanRequest, scanResponse } from './protocol.js';
import type { HeaderLayout, RequestScan, ResponseScan } from './protocol.js';

/** Which half of a connection the codec decodes for. */
export type TrpcSide = 'server' | 'client';

const REQUEST_LAYOUT: HeaderLayout = {
  caller: RequestField.Caller,
  callee: RequestField.Callee,
  func: RequestField.Func,
  transInfo: RequestField.TransInfo,
};
const RESPONSE_LAYOUT: HeaderLayout = { caller: 0, callee: 0, func: 0, transInfo: ResponseField.TransInfo };
const INIT_LAYOUT: HeaderLayout = {
  caller: InitRequestMetaField.Caller,
  callee: InitRequestMetaField.Callee,
  func: InitRequestMetaField.Func,
  transInfo: InitRequestMetaField.TransInfo,
};

/** tRPC ids are uint32 (request_id and the u32 @10). */
function toUint32(id: RequestId): number {
  const n = typeof id === 'bigint' ? Number(id) : id;
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`tRPC: id ${id} is not a uint32`);
  return n;
}

function tooLarge(size: number): string {
  return `tRPC: the rewritten protobuf header of ${size} bytes exceeds header_len's limit of ${MAX_PB_HEADER}`;
}

/** Leaves the frame as it is and has the next encode of `message` return the error. */
function markUnencodable(message: Message, size: number): void {
  if (message instanceof TrpcMessage) message.unencodable = tooLarge(size);
}

/** Records where the scan found request_id, for setRequestId. */
function withIdRange(msg: TrpcMessage, scan: RequestScan | ResponseScan): TrpcMessage {
  if (scan.requestIdStart >= 0) {
    msg.idFrame = msg.frame;
    msg.idStart = scan.requestIdStart;
    msg.idEnd = scan.requestIdEnd;
  }
  return msg;
}

function isStreamFrame(frame: Buffer): boolean {
  return frame[Offset.DataFrameType] === DataFrameType.Stream;
}

/**
 * tRPC codec. Request ids come from the protobuf header's request_id (authoritative: trpc-cpp
 * and v0 senders put 0 in the fixed header); stream frames use the stream id @10 as both
 * `streamId` and `requestId`.
 */
export class TrpcCodec implements ServerCodec, ClientCodec {
  /** Ids are protobuf varints: the proxy keeps their encoded length (see CodecBase). */
  readonly varintRequestIds = true;
  readonly #side: TrpcSide;
  readonly #maxFrameSize: number;
  /** Filled by each decode and read before it returns: no scan object per frame. */
  readonly #requestScan = newRequestScan();
  readonly #responseScan = newResponseScan();
  /**
   * The fixed-header fields of the unary requests decoded on this (downstream) connection:
   * restoring a reply through this codec gives it the client's own version and @10, even
   * when the upstream server writes others.
   */
  readonly #clientFields = new ClientFieldMemory();

  constructor(ctx: CodecContext, side: TrpcSide) {
    this.#side = side;
    this.#maxFrameSize = ctx.maxFrameSize;
  }

  decode(reader: FrameReader): DecodeResult {
    const available = reader.length;
    if (available === 0) return undefined;
    // Refuse garbage as soon as the magic's bytes arrive.
    if (reader.byteAt(0) !== MAGIC >> 8 || (available > 1 && reader.byteAt(1) !== (MAGIC & 0xff))) {
      return new CodecError('tRPC: bad magic, expected 0x0930', 'MELTEMI_ERR_BAD_MAGIC');
    }
    if (available < HEADER_SIZE) return undefined;
    const total = reader.uint32BE(Offset.TotalSize);
    const pbHeaderSize = reader.uint16BE(Offset.HeaderSize);
    if (total > this.#maxFrameSize) {
      return new CodecError(`tRPC: frame of ${total} bytes exceeds ${this.#maxFrameSize}`, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    }
    if (total < HEADER_SIZE + pbHeaderSize) {
      return new CodecError(`tRPC: total_len ${total} smaller than 16 + header_len ${pbHeaderSize}`);
    }
    const dataType = reader.byteAt(Offset.DataFrameType);
    const streamType = reader.byteAt(Offset.StreamFrameType);
    if (dataType === DataFrameType.Unary) {
      if (streamType !== StreamFrameType.Unary) return new CodecError(`tRPC: unary frame with stream frame type ${streamType}`);
    } else if (dataType === DataFrameType.Stream) {
      if (streamType < StreamFrameType.Init || streamType > StreamFrameType.Close) {
        return new CodecError(`tRPC: unknown stream frame type ${streamType}`);
      }
    } else {
      return new CodecError(`tRPC: unknown data frame type ${dataType}`);
    }
    if (available < total) return undefined;
    const frame = reader.take(total);
    try {
      if (dataType === DataFrameType.Stream) return this.#decodeStream(frame, streamType);
      return this.#side === 'server' ? this.#decodeRequest(frame, pbHeaderSize) : this.#decodeResponse(frame, pbHeaderSize);
    } catch (err) {
      if (err instanceof ProtobufWireError) return new CodecError(`tRPC: malformed header: ${err.message}`);
      throw err;
    }
  }

  #decodeRequest(frame: Buffer, pbHeaderSize: number): DecodeResult {
    const end = HEADER_SIZE + pbHeaderSize;
    const scan = scanRequest(frame, HEADER_SIZE, end, this.#requestScan);
    if (scan.attachmentSize > frame.length - end) return new CodecError(`tRPC: attachment_size ${scan.attachmentSize} exceeds the body`);
    this.#clientFields.remember(frame[Offset.Version]!, frame.readUInt32BE(Offset.StreamId), scan.requestId);
    const type = scan.callType === CallType.Oneway ? MessageType.Oneway : MessageType.Request;
    const md = new TrpcMetadata(frame, HEADER_SIZE, end, REQUEST_LAYOUT);
    return withIdRange(new TrpcMessage(type, scan.requestId, 0, frame, end, md), scan);
  }

  #decodeResponse(frame: Buffer, pbHeaderSize: number): DecodeResult {
    const end = HEADER_SIZE + pbHeaderSize;
    const scan = scanResponse(frame, HEADER_SIZE, end, this.#responseScan);
    if (scan.attachmentSize > frame.length - end) return new CodecError(`tRPC: attachment_size ${scan.attachmentSize} exceeds the body`);
    const md = new TrpcMetadata(frame, HEADER_SIZE, end, RESPONSE_LAYOUT);
    const msg = withIdRange(new TrpcMessage(MessageType.Response, scan.requestId, 0, frame, end, md), scan);
    // ret is a framework error, func_ret a business one; a trpc-go client raises both.
    if (scan.ret !== 0 || scan.funcRet !== 0) msg.status = ResponseStatus.Error;
    return msg;
  }

  #decodeStream(frame: Buffer, streamType: number): DecodeResult {
    const streamId = frame.readUInt32BE(Offset.StreamId);
    let type: MessageType = MessageType.StreamData;
    let md: Metadata = EMPTY_METADATA;
    let failed = false;
    if (streamType === StreamFrameType.Init) {
      const init = scanInit(frame, HEADER_SIZE, frame.length);
      type = MessageType.StreamInit;
      if (init.requestMetaStart >= 0) md = new TrpcMetadata(frame, init.requestMetaStart, init.requestMetaEnd, INIT_LAYOUT);
      failed = init.ret !== 0;
    } else if (streamType === StreamFrameType.Close) {
      const close = scanClose(frame, HEADER_SIZE, frame.length);
      // CLOSE half-closes the sender's direction; RESET tears the whole stream down.
      type = close.closeType === CloseType.Reset ? MessageType.StreamCloseTwoWay : MessageType.StreamCloseOneWay;
      failed = close.ret !== 0 || close.closeType === CloseType.Reset;
    }
    const msg = new TrpcMessage(type, streamId, streamId, frame, HEADER_SIZE, md);
    if (failed) msg.status = ResponseStatus.Error;
    return msg;
  }

  /**
   * Unary frames: sets the protobuf request_id (field 3; patched in place when the varint
   * keeps its size, otherwise the header is re-spliced and header_len/total_len fixed) and
   * the u32 @10. On requests @10 gets the id (trpc-go v1 servers echo it; v0 servers ignore
   * it). On responses (the restore path) the version byte becomes the client's (see
   * `#clientVersion`; otherwise the response's own) and @10 the id for v1, 0 for v0, which
   * is what the client sent. Stream frames: the stream id @10, in place.
   */
  setRequestId(message: Message, id: RequestId): void {
    const value = toUint32(id);
    let frame = message.frame;
    if (isStreamFrame(frame)) {
      frame.writeUInt32BE(value, Offset.StreamId);
      message.requestId = value;
      message.streamId = value;
      return;
    }
    const end = HEADER_SIZE + pbHeaderSizeOf(frame);
    // The proxy keeps an id's encoded length (varintRequestIds): the usual case is a write
    // where the scan found the varint. Zero is never written (proto3 omits it; see below).
    const inPlace = value !== 0 && message instanceof TrpcMessage && message.idFrame === frame && overwriteVarint(frame, message.idStart, message.idEnd, value);
    if (!inPlace && value === 0) {
      // proto3 writes no zero scalars; dropping the field restores a v0 client's bytes exactly.
      frame = replacePbHeader(frame, replaceField(frame, RequestField.RequestId, null, HEADER_SIZE, end));
    } else if (!inPlace && !patchVarintField(frame, RequestField.RequestId, value, HEADER_SIZE, end)) {
      const header = setVarintField(frame, RequestField.RequestId, value, HEADER_SIZE, end);
      // setRequestId cannot fail: a header grown past header_len's u16 is reported by encode.
      if (header.length > MAX_PB_HEADER) markUnencodable(message, header.length);
      else frame = replacePbHeader(frame, header);
    }
    if (message.type === MessageType.Response) {
      if (!this.#clientFields.restore(frame, value)) frame.writeUInt32BE(replyStreamField(frame[Offset.Version]!, value), Offset.StreamId);
    } else {
      frame.writeUInt32BE(value, Offset.StreamId);
    }
    message.frame = frame;
    message.headerSize = HEADER_SIZE + pbHeaderSizeOf(frame);
    message.bodySize = frame.length - message.headerSize;
    message.requestId = value;
  }

  /**
   * Writes `mutation` into trans_info (RequestProtocol field 9, ResponseProtocol field 8, or
   * a stream INIT's request_meta.trans_info), replacing entries with the same keys and
   * keeping every other byte, then fixes header_len and total_len. The new frame is also
   * stored in `message.frame`. Other stream frames carry no header and are returned as is.
   */
  encode(message: Message, mutation: Mutation | null): Buffer | CodecError {
    if (message instanceof TrpcMessage && message.unencodable !== undefined) return new CodecError(message.unencodable);
    if (mutation === null || mutation.size === 0) return message.frame;
    const frame = message.frame;
    let out: Buffer;
    if (!isStreamFrame(frame)) {
      const field = message.type === MessageType.Response ? ResponseField.TransInfo : RequestField.TransInfo;
      const end = HEADER_SIZE + pbHeaderSizeOf(frame);
      const header = upsertMapEntries(frame, field, mutation, HEADER_SIZE, end);
      if (header.length > MAX_PB_HEADER) return new CodecError(tooLarge(header.length));
      out = replacePbHeader(frame, header);
    } else if (frame[Offset.StreamFrameType] === StreamFrameType.Init) {
      const init = scanInit(frame, HEADER_SIZE, frame.length);
      if (init.requestMetaStart < 0) return frame;
      const requestMeta = upsertMapEntries(frame, InitRequestMetaField.TransInfo, mutation, init.requestMetaStart, init.requestMetaEnd);
      const initMeta = replaceField(
        frame,
        InitMetaField.RequestMeta,
        encodeLengthDelimitedField(InitMetaField.RequestMeta, requestMeta),
        HEADER_SIZE,
        frame.length,
      );
      out = replaceStreamMeta(frame, initMeta);
    } else {
      return frame;
    }
    message.frame = out;
    message.headerSize = isStreamFrame(out) ? HEADER_SIZE : HEADER_SIZE + pbHeaderSizeOf(out);
    message.bodySize = out.length - message.headerSize;
    return out;
  }

  /**
   * Unary: ResponseProtocol{request_id, ret, error_msg}, empty body, the client's version
   * and @10 convention. Stream INIT: an INIT answer with response_meta{ret, error_msg}.
   * Any other stream message (by `request.type`): CLOSE with close_type RESET.
   */
  errorReply(request: Message, error: ErrorType, text: string): Buffer {
    const ret = trpcRetCode(error);
    const frame = request.frame;
    // The client's own fixed-header fields: the frame's may have been rewritten for the upstream.
    const own = request instanceof TrpcMessage ? request : undefined;
    const version = own?.clientVersion ?? frame[Offset.Version]!;
    if (isStreamFrame(frame)) {
      // By type, not by the frame's bytes: the proxy resets an answered stream by asking
      // with its INIT frame and type StreamData.
      if (request.type === MessageType.StreamInit) return buildInitError(request.streamId, version, ret, text);
      return buildStreamReset(request.streamId, version, ret, text);
    }
    const id = toUint32(request.requestId);
    const field10 = own === undefined ? replyStreamField(version, id) : echoesId(own.clientField10, id) ? id : own.clientField10;
    return buildUnaryError(id, version, field10, ret, text);
  }

  /** tRPC has no heartbeat frame. */
  heartbeatReply(_request: Message): Buffer | null {
    return null;
  }
}
